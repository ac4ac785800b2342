import { LatchkeyError } from '../errors/latchkey_error.js';

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 };

/**
 * Parses a duration such as `90s`, `10m`, `24h`, `30d` into seconds. A
 * number without a unit is refused (only `0` needs none): `--token-ttl 5`
 * is as likely to mean five minutes as five seconds.
 *
 * @example parseDuration('10m') // 600
 * @throws LatchkeyError `invalid_duration`
 */
export function parseDuration(text: string): number {
  const trimmed = text.trim();
  if (trimmed === '0') return 0;
  if (/^\d{1,9}$/.test(trimmed)) {
    throw new LatchkeyError('invalid_duration', `${trimmed} what? use ${trimmed}m (or ${trimmed}s, ${trimmed}h, ${trimmed}d)`);
  }
  const match = /^(\d{1,9})([smhdw])$/.exec(trimmed);
  if (!match) {
    throw new LatchkeyError('invalid_duration', `invalid duration "${text}": use a number with s, m, h, d or w, e.g. 10m`);
  }
  const seconds = Number(match[1]) * UNIT_SECONDS[match[2]!]!;
  if (!Number.isSafeInteger(seconds)) throw new LatchkeyError('invalid_duration', `duration "${text}" is too large`);
  return seconds;
}

/** `600` -> `10m`, for human output. */
export function formatDuration(seconds: number): string {
  for (const [unit, size] of [['d', 86_400], ['h', 3600], ['m', 60]] as const) {
    if (seconds >= size && seconds % size === 0) return `${seconds / size}${unit}`;
  }
  return `${seconds}s`;
}

/** Credentials living shorter than this are almost always a typo (`10s` for `10m`); `--force` allows them. */
export const MIN_CREDENTIAL_LIFETIME = 30;

/**
 * A credential lifetime flag (`--token-ttl`, `--expires-in`): a positive
 * duration of at least {@link MIN_CREDENTIAL_LIFETIME} seconds unless `force`.
 *
 * @example credentialLifetime('10m', '--token-ttl', false) // 600
 * @throws LatchkeyError `invalid_duration`
 */
export function credentialLifetime(text: string, flag: string, force: boolean): number {
  let seconds: number;
  try {
    seconds = parseDuration(text);
  } catch (err) {
    throw new LatchkeyError('invalid_duration', `${flag} "${text}": ${(err as Error).message}`);
  }
  if (seconds <= 0) throw new LatchkeyError('invalid_duration', `${flag} must be longer than 0s`);
  return checkLifetime(seconds, flag, force);
}

/**
 * @throws LatchkeyError `invalid_duration` for a lifetime under {@link MIN_CREDENTIAL_LIFETIME} without `force`
 */
export function checkLifetime(seconds: number, flag: string, force: boolean): number {
  if (seconds < MIN_CREDENTIAL_LIFETIME && !force) {
    throw new LatchkeyError(
      'invalid_duration',
      `${flag} ${formatDuration(seconds)} is under ${MIN_CREDENTIAL_LIFETIME}s: devices would spend their lives renewing; add --force if you mean it`,
    );
  }
  return seconds;
}
