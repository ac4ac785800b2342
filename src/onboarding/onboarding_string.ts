/**
 * The onboarding string, everything a device needs in one line (a QR code):
 *
 *   latchkey://onboard?mqtts=<host:port>&https=<url>&ca_sha256=<hex>&claim=<lk_clm_…>
 *
 * `ca_sha256` is the SHA-256 of the CA certificate's DER, so the device can
 * pin the server on first contact before it trusts anything it is sent
 * (as `step ca bootstrap --fingerprint` does).
 */
export interface Onboarding {
  /** `host:port` of the MQTTS listener. */
  mqtts: string;
  /** Base URL of the HTTPS listener, e.g. `https://hub.local:8443`. */
  https: string;
  /** Lowercase hex SHA-256 of the CA certificate (DER). */
  caSha256: string;
  claim: string;
}

const SCHEME = 'latchkey://onboard';

/**
 * @example formatOnboarding({ mqtts: 'localhost:8883', https: 'https://localhost:8443', caSha256: 'ab…', claim: 'lk_clm_…' })
 * // 'latchkey://onboard?mqtts=localhost%3A8883&https=https%3A%2F%2Flocalhost%3A8443&ca_sha256=ab…&claim=lk_clm_…'
 */
export function formatOnboarding(o: Onboarding): string {
  const query = new URLSearchParams({ mqtts: o.mqtts, https: o.https, ca_sha256: o.caSha256, claim: o.claim });
  return `${SCHEME}?${query.toString()}`;
}

/**
 * Parses an onboarding string; null when it is not one (wrong scheme, a
 * missing part, a fingerprint that is not 64 hex digits).
 *
 * @example parseOnboarding(text)?.claim // 'lk_clm_…'
 */
export function parseOnboarding(text: string): Onboarding | null {
  const trimmed = text.trim();
  if (!trimmed.startsWith(`${SCHEME}?`)) return null;
  const query = new URLSearchParams(trimmed.slice(SCHEME.length + 1));
  const mqtts = query.get('mqtts');
  const https = query.get('https');
  const caSha256 = query.get('ca_sha256')?.toLowerCase() ?? null;
  const claim = query.get('claim');
  if (!mqtts || !https || !caSha256 || !claim) return null;
  if (!/^[0-9a-f]{64}$/.test(caSha256) || !/^[^:/]+:\d{1,5}$|^\[[0-9a-fA-F:]+\]:\d{1,5}$/.test(mqtts) || !https.startsWith('https://')) return null;
  return { mqtts, https, caSha256, claim };
}
