import type { FastifyInstance, FastifyReply } from 'fastify';
import { claimUsable, type ProvisionErrorCode } from '../../onboarding/provision.js';
import type { OAuthContext } from '../context.js';
import { noStore } from '../errors.js';

const BEARER = /^Bearer ([\x21-\x7e]{1,512})$/;

/** HTTP status of each refusal. */
const STATUS: Record<ProvisionErrorCode, number> = {
  invalid_claim: 401,
  invalid_client_id: 400,
  client_id_taken: 409,
  unsupported_request: 400,
  invalid_csr: 400,
  invalid_request: 400,
  server_error: 500,
};

/**
 * `POST /provision` (docs/INTERFACE.md#onboarding), for devices that speak HTTPS rather than
 * MQTT: `Authorization: Bearer lk_clm_…`, JSON body `{"client_id","csr"}`
 * (or `{"client_id"}` for a secret template); the answer is that of
 * `$provision/<id>/csr/response`. Over plain HTTP the request is refused
 * before the claim is looked at: a claim sent in clear is spent anyway.
 */
export function registerProvision(app: FastifyInstance, ctx: OAuthContext): void {
  const onboarding = ctx.deps.onboarding;
  if (!onboarding) return;
  const { audit } = ctx.deps;

  app.post('/provision', async (request, reply) => {
    const refuse = (code: ProvisionErrorCode, description: string, status = STATUS[code]): FastifyReply => {
      audit.record({ event: 'client.provision_refused', principal: null, outcome: 'failure', reason: `${code}: ${description}`, remote: request.ip, detail: { via: ctx.tls ? 'https' : 'http' } });
      return noStore(reply).code(status).send({ error: code, error_description: description });
    };
    if (!ctx.tls) return refuse('invalid_request', 'provisioning is only offered over HTTPS', 403);
    const match = BEARER.exec(request.headers.authorization ?? '');
    if (!match) return refuse('invalid_claim', 'send the claim as Authorization: Bearer lk_clm_…');
    const retry = onboarding.guesses.retryAfter(request.ip);
    if (retry > 0) {
      reply.header('retry-after', String(retry));
      return refuse('invalid_claim', 'too many failed claims from this address', 429);
    }
    const claim = onboarding.claims.lookup(match[1]!);
    const refusal = claimUsable(claim, Date.now());
    if (refusal) {
      onboarding.guesses.fail(request.ip);
      return refuse(refusal.code, refusal.description);
    }
    const body = request.body as { client_id?: unknown; csr?: unknown } | undefined;
    if (typeof body !== 'object' || body === null || typeof body.client_id !== 'string') {
      return refuse('invalid_request', 'the body must be JSON {"client_id","csr"}');
    }
    const outcome = await onboarding.provisioner.provision({
      claimId: claim!.id,
      clientId: body.client_id,
      kind: body.csr === undefined ? 'register' : 'csr',
      csrPem: body.csr,
      remote: request.ip,
      via: 'https',
    });
    if (!outcome.ok) return noStore(reply).code(STATUS[outcome.code]).send({ error: outcome.code, error_description: outcome.description });
    return noStore(reply).code(200).send({ request_id: null, ...outcome.body });
  });
}
