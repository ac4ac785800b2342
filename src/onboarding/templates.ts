import { LatchkeyError } from '../errors/latchkey_error.js';
import { CLIENT_ID_PATTERN, formatScopes, parseScopeString, ScopeError } from '../policy/index.js';
import type { TemplateAuth } from '../store/templates.js';

/** An id prefix: up to 32 characters a client id may hold, so the id stays a client id. */
export const ID_PREFIX_PATTERN = /^[A-Za-z0-9._-]{0,32}$/;

/** Provisioned certificates live at most about ten years, as `cert issue` allows. */
export const MAX_CERT_DAYS = 3650;

export const TEMPLATE_AUTHS: readonly TemplateAuth[] = ['cert', 'secret'];

/** What an operator asks for in `template create`. */
export interface TemplateInput {
  name: string;
  scope: string;
  idPrefix?: string;
  certDays?: number;
  auth?: string;
}

/** A checked template, ready to store. */
export interface TemplateRule {
  name: string;
  scope: string;
  idPrefix: string;
  certDays: number;
  auth: TemplateAuth;
}

/**
 * Checks a template: a name like a client id (it appears in `provision:<name>`),
 * at least one scope in the grammar, an id prefix a client id can start
 * with, 1-3650 certificate days and a credential kind. Pure.
 *
 * @example validateTemplate({ name: 'thermostat', scope: 'mqtt:publish:home/{client_id}/telemetry', idPrefix: 'th-' })
 * @throws LatchkeyError invalid_id, invalid_scope, invalid_argument
 */
export function validateTemplate(input: TemplateInput): TemplateRule {
  if (!CLIENT_ID_PATTERN.test(input.name)) {
    throw new LatchkeyError('invalid_id', `invalid template name "${input.name}": use 1-64 of A-Z a-z 0-9 . _ -`);
  }
  let scope: string;
  try {
    const scopes = parseScopeString(input.scope);
    if (scopes.length === 0) throw new ScopeError('a template needs at least one scope');
    // A device must not be able to vouch for others or administer latchkey just by being provisioned.
    const forbidden = scopes.filter((s) => s.kind !== 'mqtt');
    if (forbidden.length > 0) throw new ScopeError(`a template grants MQTT scopes only, not ${formatScopes(forbidden)}`);
    scope = formatScopes(scopes);
  } catch (err) {
    if (err instanceof ScopeError) throw new LatchkeyError('invalid_scope', err.message);
    throw err;
  }
  const idPrefix = input.idPrefix ?? '';
  if (!ID_PREFIX_PATTERN.test(idPrefix)) {
    throw new LatchkeyError('invalid_argument', `invalid --id-prefix "${idPrefix}": use up to 32 of A-Z a-z 0-9 . _ -`);
  }
  const certDays = input.certDays ?? 365;
  if (!Number.isSafeInteger(certDays) || certDays < 1 || certDays > MAX_CERT_DAYS) {
    throw new LatchkeyError('invalid_argument', `--cert-days must be a whole number of days between 1 and ${MAX_CERT_DAYS}`);
  }
  const auth = (input.auth ?? 'cert') as TemplateAuth;
  if (!TEMPLATE_AUTHS.includes(auth)) throw new LatchkeyError('invalid_argument', `--auth must be cert or secret, not "${input.auth}"`);
  return { name: input.name, scope, idPrefix, certDays, auth };
}
