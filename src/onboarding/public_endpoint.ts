/** Addresses every listener binds to, which no device can dial. */
const WILDCARDS = new Set(['0.0.0.0', '::', '[::]', '']);

/**
 * The host name devices should use in onboarding strings: `--public-host`
 * when set, else `--host` unless it is a wildcard address, else the first
 * DNS name of the server certificate (what TLS will answer as), else
 * `localhost`.
 *
 * @example publicHost({ host: '0.0.0.0' }, ['hub.local', 'localhost']) // 'hub.local'
 */
export function publicHost(config: { host: string; publicHost?: string | undefined }, tlsNames: readonly string[]): string {
  if (config.publicHost) return config.publicHost;
  if (!WILDCARDS.has(config.host)) return config.host;
  // A wildcard (*.iot.lan) names no host a device could dial.
  return tlsNames.find((name) => !name.startsWith('*.')) ?? 'localhost';
}

/** `host:port`, bracketing an IPv6 literal. */
export function hostPort(host: string, port: number): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]:${port}` : `${host}:${port}`;
}
