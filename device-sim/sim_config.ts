import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';

/** A device with client credentials. */
export interface SecretDevice {
  clientId: string;
  clientSecret: string;
}

/** A device with a certificate; PEM text after loading. */
export interface CertificateDevice {
  clientId: string;
  cert: string;
  key: string;
}

/** Everything `npm run sim` needs, from flags and/or a JSON file. */
export interface SimConfig {
  mqttUrl?: string;
  mqttsUrl?: string;
  tokenEndpoint?: string;
  /** PEM of the CA that signed the server certificate (for mqtts://). */
  ca?: string;
  hub?: SecretDevice;
  thermostats: Array<SecretDevice | CertificateDevice>;
  rogue?: SecretDevice & { victim?: string };
  /** Seconds to run; undefined = until SIGINT/SIGTERM. */
  durationSeconds?: number;
  secondsPerHour: number;
  json: boolean;
}

export const SIM_HELP = `npm run sim -- [options]

Runs the simulated home (hub, thermostats, optionally the rogue) against a
latchkey you already run. Register the devices first, for example:

  latchkey client create hub --scope "mqtt:subscribe:home/+/telemetry mqtt:publish:home/+/setpoint" --json
  latchkey client create thermostat-1 --scope "mqtt:publish:home/{client_id}/telemetry mqtt:subscribe:home/{client_id}/setpoint" --json

Options:
  --config <file>                 JSON file with any of the settings below (flags win)
  --mqtt-url <url>                broker for client-credential devices, e.g. mqtt://localhost:1883
  --mqtts-url <url>               broker for certificate devices, e.g. mqtts://localhost:8883
  --token-endpoint <url>          e.g. http://localhost:8080/oauth/token
  --ca <file>                     CA certificate to trust on mqtts:// (certs/ca.crt)
  --hub <id>:<secret>             run the hub
  --thermostat <id>:<secret>      a thermostat with client credentials (repeatable)
  --cert-thermostat <id>:<cert>:<key>
                                  a thermostat with a device certificate and key file (repeatable)
  --rogue <id>:<secret>           run the rogue's three attempts once, against the first thermostat
  --duration <seconds>            stop after this long (default: run until Ctrl-C)
  --seconds-per-hour <n>          wall-clock seconds per simulated hour (default 1)
  --json                          print JSON lines instead of text
  -h, --help                      this text

Secrets on a command line are visible to other local users (ps); prefer --config
with a file only you can read. The file looks like:

  {
    "mqttUrl": "mqtt://localhost:1883",
    "mqttsUrl": "mqtts://localhost:8883",
    "tokenEndpoint": "http://localhost:8080/oauth/token",
    "ca": "certs/ca.crt",
    "hub": { "clientId": "hub", "clientSecret": "…" },
    "thermostats": [
      { "clientId": "thermostat-1", "clientSecret": "…" },
      { "clientId": "thermostat-2", "cert": "thermostat-2.crt", "key": "thermostat-2.key" }
    ]
  }
  (paths in the file are relative to the file)
`;

/** A message for the user: printed on stderr with exit code 2. */
export class SimConfigError extends Error {
  override readonly name = 'SimConfigError';
}

function idAndSecret(flag: string, value: string): SecretDevice {
  const at = value.indexOf(':');
  if (at <= 0 || at === value.length - 1) throw new SimConfigError(`${flag} wants <id>:<secret>, got ${JSON.stringify(value.slice(0, 20))}…`);
  return { clientId: value.slice(0, at), clientSecret: value.slice(at + 1) };
}

function readPem(path: string, base: string, what: string): string {
  try {
    return readFileSync(resolve(base, path), 'utf8');
  } catch {
    throw new SimConfigError(`cannot read ${what} ${resolve(base, path)}`);
  }
}

function str(o: Record<string, unknown>, key: string, where: string): string | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v === '') throw new SimConfigError(`${where}: "${key}" must be a non-empty string`);
  return v;
}

/** Reads the `--config` JSON file; file paths inside are relative to it. */
function fromFile(path: string): Partial<SimConfig> {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new SimConfigError(`cannot read ${path}: ${(err as Error).message}`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new SimConfigError(`${path}: expected a JSON object`);
  const o = raw as Record<string, unknown>;
  const base = dirname(resolve(path));
  const out: Partial<SimConfig> = {};
  const mqttUrl = str(o, 'mqttUrl', path);
  const mqttsUrl = str(o, 'mqttsUrl', path);
  const tokenEndpoint = str(o, 'tokenEndpoint', path);
  const ca = str(o, 'ca', path);
  if (mqttUrl) out.mqttUrl = mqttUrl;
  if (mqttsUrl) out.mqttsUrl = mqttsUrl;
  if (tokenEndpoint) out.tokenEndpoint = tokenEndpoint;
  if (ca) out.ca = readPem(ca, base, 'CA certificate');
  const secretDevice = (v: unknown, where: string): SecretDevice => {
    if (typeof v !== 'object' || v === null) throw new SimConfigError(`${path}: ${where} must be an object`);
    const d = v as Record<string, unknown>;
    const clientId = str(d, 'clientId', `${path} ${where}`);
    const clientSecret = str(d, 'clientSecret', `${path} ${where}`);
    if (!clientId || !clientSecret) throw new SimConfigError(`${path}: ${where} needs clientId and clientSecret`);
    return { clientId, clientSecret };
  };
  if (o.hub !== undefined) out.hub = secretDevice(o.hub, 'hub');
  if (o.rogue !== undefined) {
    const victim = str(o.rogue as Record<string, unknown>, 'victim', `${path} rogue`);
    out.rogue = { ...secretDevice(o.rogue, 'rogue'), ...(victim ? { victim } : {}) };
  }
  if (o.thermostats !== undefined) {
    if (!Array.isArray(o.thermostats)) throw new SimConfigError(`${path}: "thermostats" must be an array`);
    out.thermostats = o.thermostats.map((t: unknown, i) => {
      const where = `thermostats[${i}]`;
      const d = (typeof t === 'object' && t !== null ? t : {}) as Record<string, unknown>;
      const cert = str(d, 'cert', `${path} ${where}`);
      const key = str(d, 'key', `${path} ${where}`);
      if (cert || key) {
        const clientId = str(d, 'clientId', `${path} ${where}`);
        if (!clientId || !cert || !key) throw new SimConfigError(`${path}: ${where} needs clientId, cert and key`);
        return { clientId, cert: readPem(cert, base, 'certificate'), key: readPem(key, base, 'key') };
      }
      return secretDevice(t, where);
    });
  }
  return out;
}

/**
 * Flags and the optional JSON file into a checked {@link SimConfig}.
 * Returns null for `--help`.
 *
 * @example const config = parseSimArgs(process.argv.slice(2));
 */
export function parseSimArgs(argv: string[]): SimConfig | null {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        config: { type: 'string' },
        'mqtt-url': { type: 'string' },
        'mqtts-url': { type: 'string' },
        'token-endpoint': { type: 'string' },
        ca: { type: 'string' },
        hub: { type: 'string' },
        thermostat: { type: 'string', multiple: true },
        'cert-thermostat': { type: 'string', multiple: true },
        rogue: { type: 'string' },
        duration: { type: 'string' },
        'seconds-per-hour': { type: 'string' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (err) {
    throw new SimConfigError((err as Error).message);
  }
  if (values.help) return null;

  const file = values.config ? fromFile(values.config) : {};
  const thermostats: SimConfig['thermostats'] = [...(file.thermostats ?? [])];
  for (const t of values.thermostat ?? []) thermostats.push(idAndSecret('--thermostat', t));
  for (const t of values['cert-thermostat'] ?? []) {
    const [clientId, cert, key, ...rest] = t.split(':');
    if (!clientId || !cert || !key || rest.length > 0) throw new SimConfigError(`--cert-thermostat wants <id>:<cert file>:<key file>, got ${JSON.stringify(t)}`);
    thermostats.push({ clientId, cert: readPem(cert, process.cwd(), 'certificate'), key: readPem(key, process.cwd(), 'key') });
  }

  const number = (flag: string, v: string | undefined, min: number): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isFinite(n) || n < min) throw new SimConfigError(`${flag} must be a number ≥ ${min}`);
    return n;
  };
  const mqttUrl = values['mqtt-url'] ?? file.mqttUrl;
  const mqttsUrl = values['mqtts-url'] ?? file.mqttsUrl;
  const tokenEndpoint = values['token-endpoint'] ?? file.tokenEndpoint;
  const ca = values.ca ? readPem(values.ca, process.cwd(), 'CA certificate') : file.ca;
  const hub = values.hub ? idAndSecret('--hub', values.hub) : file.hub;
  const rogue = values.rogue ? idAndSecret('--rogue', values.rogue) : file.rogue;
  const durationSeconds = number('--duration', values.duration, 1);
  const config: SimConfig = {
    thermostats,
    secondsPerHour: number('--seconds-per-hour', values['seconds-per-hour'], 0.1) ?? 1,
    json: values.json === true,
    ...(mqttUrl ? { mqttUrl } : {}),
    ...(mqttsUrl ? { mqttsUrl } : {}),
    ...(tokenEndpoint ? { tokenEndpoint } : {}),
    ...(ca ? { ca } : {}),
    ...(hub ? { hub } : {}),
    ...(rogue ? { rogue } : {}),
    ...(durationSeconds !== undefined ? { durationSeconds } : {}),
  };

  if (!config.hub && config.thermostats.length === 0) throw new SimConfigError('nothing to run: give --hub and/or --thermostat (see --help)');
  const usesSecrets = config.hub !== undefined || config.rogue !== undefined || config.thermostats.some((t) => 'clientSecret' in t);
  if (usesSecrets && (!config.mqttUrl || !config.tokenEndpoint)) throw new SimConfigError('client-credential devices need --mqtt-url and --token-endpoint');
  if (config.thermostats.some((t) => 'cert' in t) && !config.mqttsUrl) throw new SimConfigError('certificate devices need --mqtts-url');
  return config;
}
