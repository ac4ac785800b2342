import { LatchkeyError } from '../errors/latchkey_error.js';
import { parseClusterUrl } from '../cluster/cluster_url.js';
import { checkStoreUrl } from './store_url.js';
import { parseDuration } from './duration.js';
import { type Config, envName, OPTIONS, type OptionSpec } from './options.js';

/** Raw option values as strings, keyed like {@link Config}; flags win over environment. */
export type RawOptions = Partial<Record<keyof Config, string | undefined>>;

/**
 * Resolves every option from flags, then `LATCHKEY_*` environment variables,
 * then defaults, validates it, and freezes the result.
 *
 * @example loadConfig({ httpPort: '0' }, process.env).httpPort // 0
 * @throws LatchkeyError `invalid_option`
 */
export function loadConfig(flags: RawOptions, env: NodeJS.ProcessEnv = process.env): Readonly<Config> {
  const config: Record<string, string | number | boolean> = {};
  for (const spec of OPTIONS) {
    const raw = flags[spec.key] ?? env[envName(spec.flag)] ?? spec.fallback;
    if (raw === null) continue;
    config[spec.key] = parseOption(spec, raw);
  }
  // The URLs may hold a password: checked on their own, so no message repeats it.
  if (typeof config.store === 'string') checkStoreUrl(config.store);
  if (typeof config.cluster === 'string') config.cluster = parseClusterUrl(config.cluster).href;
  config.issuer ??= `http://localhost:${config.httpPort}`;
  // Several devices may share one address (NAT): one broken device must not lock the others out.
  config.authFailureAddressLimit ??= (config.authFailureLimit as number) * 5;
  return Object.freeze(config as unknown as Config);
}

function parseOption(spec: OptionSpec, raw: string): string | number | boolean {
  switch (spec.kind) {
    case 'boolean':
      if (/^(true|1|yes|on)$/i.test(raw)) return true;
      if (/^(false|0|no|off)$/i.test(raw)) return false;
      throw invalid(spec, raw, 'must be true or false');
    case 'string':
      if (raw === '') throw invalid(spec, raw, 'must not be empty');
      if (spec.choices && !spec.choices.includes(raw)) throw invalid(spec, raw, `must be one of ${spec.choices.join(', ')}`);
      return raw;
    case 'port': {
      const port = Number(raw);
      if (!/^\d+$/.test(raw) || port > 65_535) throw invalid(spec, raw, 'must be a port number 0-65535');
      return port;
    }
    case 'integer': {
      const value = Number(raw);
      if (!/^\d+$/.test(raw) || !Number.isSafeInteger(value)) throw invalid(spec, raw, 'must be a whole number');
      return value;
    }
    case 'seconds':
      try {
        return parseDuration(raw);
      } catch (err) {
        throw new LatchkeyError('invalid_option', `--${spec.flag} "${raw}": ${(err as Error).message}`);
      }
  }
}

function invalid(spec: OptionSpec, raw: string, why: string): LatchkeyError {
  return new LatchkeyError('invalid_option', `--${spec.flag} "${raw}" ${why}`);
}
