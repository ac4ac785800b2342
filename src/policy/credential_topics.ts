/**
 * Topics whose messages carry credentials: `$auth/<id>/…` (access tokens on
 * renewal) and `$provision/<id>/…` (client secrets, certificates and claims
 * on onboarding). The one list of them: the broker never retains these
 * messages and keeps them in memory only, so no token or secret on them is
 * ever written to the database, its WAL or its free pages.
 */
export const CREDENTIAL_TOPIC_PREFIXES: readonly string[] = Object.freeze(['$auth/', '$provision/']);

/**
 * Whether a message on `topic` may carry a credential. Topics starting with
 * `$` are the server's own [MQTT-4.7.2-1], so no device topic is caught.
 *
 * @example
 * isCredentialTopic('$auth/t1/reauth') // true
 * isCredentialTopic('$provision/t1/register/response') // true
 * isCredentialTopic('home/t1/telemetry') // false
 */
export function isCredentialTopic(topic: string | undefined): boolean {
  if (typeof topic !== 'string') return false;
  return CREDENTIAL_TOPIC_PREFIXES.some((prefix) => topic.startsWith(prefix));
}
