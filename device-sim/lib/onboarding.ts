/**
 * The onboarding string a device is handed (a QR code, a hub's message):
 *
 *   latchkey://onboard?mqtts=<host:port>&https=<url>&ca_sha256=<hex>&claim=<lk_clm_…>
 */
export interface OnboardingString {
  /** `host:port` of the MQTTS listener. */
  mqtts: string;
  /** `https://host:port`. */
  https: string;
  /** SHA-256 (hex) of the CA certificate the server must chain to. */
  caSha256: string;
  /** The one-time claim. */
  claim: string;
}

/**
 * @example parseOnboardingString('latchkey://onboard?mqtts=…')?.claim
 * @returns null when the text is not an onboarding string
 */
export function parseOnboardingString(text: string): OnboardingString | null {
  const prefix = 'latchkey://onboard?';
  const trimmed = text.trim();
  if (!trimmed.startsWith(prefix)) return null;
  const q = new URLSearchParams(trimmed.slice(prefix.length));
  const mqtts = q.get('mqtts');
  const https = q.get('https');
  const caSha256 = q.get('ca_sha256')?.toLowerCase();
  const claim = q.get('claim');
  if (!mqtts || !https?.startsWith('https://') || !caSha256 || !/^[0-9a-f]{64}$/.test(caSha256) || !claim?.startsWith('lk_clm_')) return null;
  return { mqtts, https, caSha256, claim };
}
