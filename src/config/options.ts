/**
 * Every option latchkey reads, declared once: flag, environment variable,
 * default and meaning. The CLI builds its flags from this table and the
 * server reads the frozen result, so a new option is one row here.
 */
export interface OptionSpec {
  /** camelCase key in {@link Config}. */
  readonly key: keyof Config;
  /** Long flag without dashes, e.g. `mqtt-port` (env `LATCHKEY_MQTT_PORT`). */
  readonly flag: string;
  readonly kind: 'string' | 'port' | 'seconds' | 'integer' | 'boolean';
  /** Default as it would be typed on the command line; `null` = derived. */
  readonly fallback: string | null;
  readonly doc: string;
  /** The only values a `string` option accepts, when it is an enumeration. */
  readonly choices?: readonly string[];
}

export interface Config {
  dataDir: string;
  certsDir: string;
  /** PostgreSQL URL of a store shared by several nodes; unset = SQLite `<dataDir>/latchkey.db`. Never log it whole (store_location.ts). */
  store?: string;
  host: string;
  mqttPort: number;
  mqttsPort: number;
  httpPort: number;
  httpsPort: number;
  /** MQTT over WebSocket, path /mqtt. */
  wsPort: number;
  /** MQTT over secure WebSocket, path /mqtt, client certificates accepted. */
  wssPort: number;
  /** Take the client address of WebSocket connections from X-Forwarded-For (only behind a proxy you run). */
  trustProxy: boolean;
  /** `iss` of every token; derived from the HTTP port when unset. */
  issuer: string;
  audience: string;
  /** Seconds before expiry at which `$auth/<id>/expiring` is sent (capped at half the lifetime). */
  expiryWarning: number;
  /** Default access-token lifetime for new clients, seconds. */
  tokenTtl: number;
  /** How often the server looks for changes made by other processes (the CLI), ms. */
  changePollMs: number;
  /** Largest MQTT packet accepted, bytes. */
  maxPacketSize: number;
  /** Largest CONNECT password accepted, bytes; longer ones are refused before any parsing. */
  maxPasswordBytes: number;
  /** Most topic levels in a topic name or filter. */
  maxTopicLevels: number;
  /** Most concurrent MQTT connections from one remote address. */
  maxConnectionsPerAddress: number;
  /** Failed token requests per client id from one address before 429. */
  authFailureLimit: number;
  /** Failed token requests from one address, whatever the client ids, before 429. */
  authFailureAddressLimit: number;
  /** Window over which failed token requests are counted, seconds. */
  authFailureWindow: number;
  /** Audit events older than this are deleted by the running server (hourly), seconds. */
  auditRetention: number;
  logLevel: string;
  /** `json` (one object per line, for machines) or `pretty` (for people at a terminal). */
  logFormat: 'json' | 'pretty';
  /** Names the server certificate covers besides localhost (comma separated); derived from this machine when unset. */
  tlsNames?: string;
  /** The operator's own server certificate and key (PEM files), instead of the one latchkey issues. */
  tlsCert?: string;
  tlsKey?: string;
  /** Host name devices dial, put in onboarding strings; derived from --host or the TLS names when unset. */
  publicHost?: string;
  /** A certificate session is warned this long before its certificate expires (capped at a third of its lifetime), seconds. */
  certRenewBefore: number;
  /** The first use of a renewed certificate revokes the one it replaced. */
  revokeReplaced: boolean;
  /**
   * `redis://` or `rediss://` URL: MQTT messages are routed and MQTT state
   * (retained messages, persistent sessions) kept in Redis, so several nodes
   * serve as one broker (docs/CLUSTER.md). Unset: one node, state in SQLite.
   */
  cluster?: string;
}

export const OPTIONS: readonly OptionSpec[] = [
  { key: 'dataDir', flag: 'data-dir', kind: 'string', fallback: './data', doc: 'SQLite database latchkey.db and signing keys' },
  { key: 'certsDir', flag: 'certs-dir', kind: 'string', fallback: './certs', doc: 'CA (ca.crt, ca.key), server certificate and key' },
  { key: 'store', flag: 'store', kind: 'string', fallback: null, doc: 'PostgreSQL URL (postgres://…) of a store several nodes share, instead of SQLite in --data-dir' },
  { key: 'host', flag: 'host', kind: 'string', fallback: '0.0.0.0', doc: 'address every listener binds' },
  { key: 'mqttPort', flag: 'mqtt-port', kind: 'port', fallback: '1883', doc: 'MQTT over TCP (0 = any free port)' },
  { key: 'mqttsPort', flag: 'mqtts-port', kind: 'port', fallback: '8883', doc: 'MQTT over TLS, client certificates accepted' },
  { key: 'httpPort', flag: 'http-port', kind: 'port', fallback: '8080', doc: 'OAuth server, admin API, /healthz, /metrics' },
  { key: 'httpsPort', flag: 'https-port', kind: 'port', fallback: '8443', doc: 'the same routes over TLS, optional client certificates' },
  { key: 'wsPort', flag: 'ws-port', kind: 'port', fallback: '8083', doc: 'MQTT over WebSocket, path /mqtt' },
  { key: 'wssPort', flag: 'wss-port', kind: 'port', fallback: '8084', doc: 'MQTT over secure WebSocket, path /mqtt, client certificates accepted' },
  { key: 'trustProxy', flag: 'trust-proxy', kind: 'boolean', fallback: 'false', doc: 'WebSocket client address from X-Forwarded-For (only behind your own proxy)' },
  { key: 'issuer', flag: 'issuer', kind: 'string', fallback: null, doc: 'iss of every token (default http://localhost:<http-port>)' },
  { key: 'audience', flag: 'audience', kind: 'string', fallback: 'urn:latchkey:mqtt', doc: 'aud the broker requires' },
  { key: 'expiryWarning', flag: 'expiry-warning', kind: 'seconds', fallback: '60s', doc: 'warn on $auth/<id>/expiring this long before expiry' },
  { key: 'tokenTtl', flag: 'token-ttl', kind: 'seconds', fallback: '10m', doc: 'default access-token lifetime for new clients' },
  { key: 'changePollMs', flag: 'change-poll-ms', kind: 'integer', fallback: '100', doc: 'poll interval for changes made by other processes' },
  { key: 'maxPacketSize', flag: 'max-packet-size', kind: 'integer', fallback: '262144', doc: 'largest MQTT packet accepted, bytes' },
  { key: 'maxPasswordBytes', flag: 'max-password-bytes', kind: 'integer', fallback: '8192', doc: 'largest CONNECT password, bytes' },
  { key: 'maxTopicLevels', flag: 'max-topic-levels', kind: 'integer', fallback: '32', doc: 'most levels in a topic or filter' },
  { key: 'maxConnectionsPerAddress', flag: 'max-connections-per-address', kind: 'integer', fallback: '0', doc: 'concurrent MQTT connections per remote address (0 = unlimited)' },
  { key: 'authFailureLimit', flag: 'auth-failure-limit', kind: 'integer', fallback: '10', doc: 'failed token requests for one client id from one address before 429' },
  { key: 'authFailureAddressLimit', flag: 'auth-failure-address-limit', kind: 'integer', fallback: null, doc: 'failed token requests from one address, any client ids, before 429 (default 5 x --auth-failure-limit)' },
  { key: 'authFailureWindow', flag: 'auth-failure-window', kind: 'seconds', fallback: '60s', doc: 'window for counting failed token requests; the first lock lasts this long, each further one twice as long (at most 1h)' },
  { key: 'auditRetention', flag: 'audit-retention', kind: 'seconds', fallback: '90d', doc: 'delete audit events older than this (checked at start and hourly)' },
  { key: 'tlsNames', flag: 'tls-names', kind: 'string', fallback: null, doc: 'names and addresses the server certificate covers, comma separated (default: this host name and its LAN addresses; localhost always)' },
  { key: 'tlsCert', flag: 'tls-cert', kind: 'string', fallback: null, doc: 'your own server certificate (PEM, chain allowed) for HTTPS and MQTTS, with --tls-key' },
  { key: 'tlsKey', flag: 'tls-key', kind: 'string', fallback: null, doc: 'the private key of --tls-cert (PEM)' },
  { key: 'publicHost', flag: 'public-host', kind: 'string', fallback: null, doc: 'host name in onboarding strings (default: --host, or the first TLS name when --host is a wildcard)' },
  { key: 'certRenewBefore', flag: 'cert-renew-before', kind: 'seconds', fallback: '30d', doc: 'warn certificate sessions on $auth/<id>/expiring this long before notAfter (at most a third of the lifetime)' },
  { key: 'revokeReplaced', flag: 'revoke-replaced', kind: 'boolean', fallback: 'false', doc: 'the first use of a renewed certificate revokes the one it replaced' },
  { key: 'cluster', flag: 'cluster', kind: 'string', fallback: null, doc: 'redis:// or rediss:// URL: route MQTT and keep MQTT state in Redis so several nodes serve as one (default: one node, state in SQLite)' },
  { key: 'logLevel', flag: 'log-level', kind: 'string', fallback: 'info', doc: 'pino log level (silent, error, warn, info, debug)' },
  { key: 'logFormat', flag: 'log-format', kind: 'string', fallback: 'json', choices: ['json', 'pretty'], doc: 'json lines for machines, or pretty for people' },
];

/** `mqtt-port` -> `LATCHKEY_MQTT_PORT`. */
export function envName(flag: string): string {
  return `LATCHKEY_${flag.toUpperCase().replace(/-/g, '_')}`;
}
