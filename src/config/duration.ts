import { LatchkeyError } from '../errors/latchkey_error.js';

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 };

/**
 * Parses a duration such as `90s`, `10m`, `24h`, `30d` (or bare seconds) into seconds.
 *
 * @example parseDuration('10m') // 600
 * @throws LatchkeyError `invalid_duration`
 */
export function parseDuration(text: string): number {
  const match = /^(\d{1,9})([smhdw]?)$/.exec(text.trim());
  if (!match) {
    throw new LatchkeyError('invalid_duration', `invalid duration "${text}": use a number with s, m, h, d or w, e.g. 10m`);
  }
  const seconds = Number(match[1]) * UNIT_SECONDS[match[2] || 's']!;
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
