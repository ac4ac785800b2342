import { hashSecret, secretMatches } from '../../keys/secrets.js';
import type { ClientRecord } from '../../store/clients.js';
import type { ClientAuthEnv } from './method.js';

/** Compared against when there is no real secret, so an unknown client costs what a known one does. */
const DUMMY_HASH = hashSecret('latchkey-dummy-secret-never-issued');

/**
 * Checks a presented secret against every secret of `client` valid now
 * (the current one and any still in a rotation grace period). For a null
 * client, the same query and one constant-time compare are done and the
 * answer is always no.
 *
 * @example checkSecret(client, 't1', secret, env) // null when it matches
 */
export function checkSecret(client: ClientRecord | null, claimedId: string, secret: string, env: ClientAuthEnv): string | null {
  const hashes = env.store.clients.validSecrets(client?.id ?? claimedId, env.nowMs).map((s) => s.hash);
  const matched = secretMatches(secret, client && hashes.length > 0 ? hashes : [DUMMY_HASH]);
  if (!client) return 'no such client for this method';
  // Said plainly for the operator: an empty secret is a configuration slip (`curl -u t1:`), not a guess.
  if (secret === '') return 'no client secret given';
  if (hashes.length === 0) return 'client has no valid secret';
  return matched ? null : 'wrong secret';
}
