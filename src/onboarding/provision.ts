import { CLIENT_ID_PATTERN } from '../policy/index.js';
import type { ClaimRecord } from '../store/claims.js';
import type { TemplateRecord } from '../store/templates.js';
import { claimStatus } from './claims.js';

/**
 * Why provisioning was refused; the `error` of a `$provision/…/response`
 * and of `POST /provision`:
 *
 * - `invalid_claim`: unknown, malformed, expired, revoked or used-up claim
 * - `invalid_client_id`: not a client id, or outside the template's prefix
 * - `client_id_taken`: a client, user or API key already has that name
 * - `unsupported_request`: a CSR for a secret template, or the reverse
 * - `invalid_csr`: bad signature, CN other than the id, or an unaccepted key
 * - `invalid_request`: a payload that is not the JSON asked for
 */
export type ProvisionErrorCode =
  | 'invalid_claim'
  | 'invalid_client_id'
  | 'client_id_taken'
  | 'unsupported_request'
  | 'invalid_csr'
  | 'invalid_request'
  | 'server_error';

/** A refusal: the code for the device, a description safe to show it, a reason for the audit log. */
export interface ProvisionRefusal {
  ok: false;
  code: ProvisionErrorCode;
  description: string;
}

/** What to register: the checks passed. One place (the provisioner) applies it. */
export interface RegistrationPlan {
  ok: true;
  clientId: string;
  template: string;
  claimId: string;
  /** The template's scope string, copied; `{client_id}` is expanded by the policy at use. */
  scope: string;
  authMethod: 'tls_client_auth' | 'client_secret_basic';
  certDays: number;
  /** The hub that minted the claim, when one did. */
  provisionedBy: string | null;
}

export type ProvisionKind = 'csr' | 'register';

export function refuse(code: ProvisionErrorCode, description: string): ProvisionRefusal {
  return { ok: false, code, description };
}

/**
 * The claim alone: may it still provision at `now` (ms)? Used at CONNECT,
 * before any id is considered.
 */
export function claimUsable(claim: ClaimRecord | undefined, now: number): ProvisionRefusal | null {
  if (!claim) return refuse('invalid_claim', 'unknown claim');
  const status = claimStatus(claim, now);
  if (status === 'revoked') return refuse('invalid_claim', `claim revoked: ${claim.id}`);
  if (status === 'used') return refuse('invalid_claim', `claim used up: ${claim.id}`);
  if (status === 'expired') return refuse('invalid_claim', `claim expired: ${claim.id}`);
  return null;
}

/**
 * Whether `clientId` may be provisioned under `template`: a client id,
 * starting with the template's prefix, and free.
 */
export function idAllowed(template: TemplateRecord, clientId: string, idTaken: boolean): ProvisionRefusal | null {
  if (!CLIENT_ID_PATTERN.test(clientId)) return refuse('invalid_client_id', 'the client id must be 1-64 of A-Z a-z 0-9 . _ -');
  if (!clientId.startsWith(template.idPrefix) || clientId.length === template.idPrefix.length) {
    return refuse('invalid_client_id', `the client id must start with "${template.idPrefix}" and add at least one character (template ${template.name})`);
  }
  if (idTaken) return refuse('client_id_taken', `"${clientId}" is already taken`);
  return null;
}

/**
 * The provisioning decision (pure): claim + template + request → what to
 * register, or why not. The CSR itself is checked where it is signed
 * (src/pki/issue_certificate.ts); nothing but its key is honoured.
 *
 * @example
 * decideProvision({ claim, template, clientId: 'th-42', kind: 'csr', idTaken: false, now: Date.now() })
 * // { ok: true, clientId: 'th-42', authMethod: 'tls_client_auth', … }
 */
export function decideProvision(input: {
  claim: ClaimRecord | undefined;
  template: TemplateRecord | undefined;
  clientId: string;
  kind: ProvisionKind;
  idTaken: boolean;
  now: number;
}): RegistrationPlan | ProvisionRefusal {
  const { claim, template, clientId, kind } = input;
  const claimRefusal = claimUsable(claim, input.now);
  if (claimRefusal) return claimRefusal;
  if (!template || template.name !== claim!.template) return refuse('invalid_claim', `the claim's template no longer exists: ${claim!.id}`);
  const idRefusal = idAllowed(template, clientId, input.idTaken);
  if (idRefusal) return idRefusal;
  if (template.auth === 'cert' && kind !== 'csr') return refuse('unsupported_request', `template ${template.name} issues certificates: publish a CSR`);
  if (template.auth === 'secret' && kind !== 'register') return refuse('unsupported_request', `template ${template.name} issues client secrets: publish to register`);
  return {
    ok: true,
    clientId,
    template: template.name,
    claimId: claim!.id,
    scope: template.scope,
    authMethod: template.auth === 'cert' ? 'tls_client_auth' : 'client_secret_basic',
    certDays: template.certDays,
    provisionedBy: hubOf(claim!.createdBy),
  };
}

/** `client:<hub>` → the hub's id; an operator's claim has none. */
export function hubOf(createdBy: string): string | null {
  return createdBy.startsWith('client:') ? createdBy.slice('client:'.length) : null;
}
