import type { PublishPacket } from 'aedes';
import type { ProvisionOutcome } from '../registry/provisioning.js';
import { parseRequest } from './auth_topics.js';
import type { BrokerContext } from './broker_context.js';
import type { Session } from './session.js';

/** After a success the device has this long to read its answer before the broker ends the session. */
const LINGER_AFTER_SUCCESS_MS = 1000;

/**
 * `$provision/<id>/csr` and `$provision/<id>/register` from a provisioning
 * session (CONTRACT §8): one request at a time; the answer goes to
 * `…/csr/response` or `…/register/response`, QoS 0, never retained. After a
 * success the session ends: a claim session does one thing.
 */
export function handleProvisionRequest(ctx: BrokerContext, session: Session, packet: PublishPacket): void {
  const kind = packet.topic.endsWith('/csr') ? 'csr' : 'register';
  const answer = (body: Record<string, unknown>) => publishProvision(ctx, session, `${kind}/response`, body);
  let body: Record<string, unknown>;
  try {
    body = parseRequest(packet.payload);
  } catch (err) {
    answer({ request_id: null, error: 'invalid_request', error_description: (err as Error).message });
    return;
  }
  const requestId = body.request_id;
  const services = ctx.onboarding;
  if (!services) return answer({ request_id: requestId, error: 'server_error', error_description: 'provisioning is not enabled' });
  if (session.provisioning) return answer({ request_id: requestId, error: 'slow_down', error_description: 'one request at a time' });
  session.provisioning = true;
  services.provisioner
    .provision({
      claimId: session.credential.id,
      clientId: session.principal.name,
      kind,
      csrPem: body.csr,
      remote: session.remote,
      via: 'mqtt',
    })
    .catch((err: unknown): ProvisionOutcome => {
      ctx.log.error({ err }, 'provisioning failed');
      return { ok: false, code: 'server_error', description: 'provisioning failed' };
    })
    .then((outcome) => {
      session.provisioning = false;
      if (!outcome.ok) return answer({ request_id: requestId, error: outcome.code, error_description: outcome.description });
      answer({ request_id: requestId, ...outcome.body });
      setTimeout(() => ctx.endSession(session, 'provisioned', 'provisioned: the claim session has done its work'), LINGER_AFTER_SUCCESS_MS).unref();
    });
}

/** Publishes to `$provision/<id>/<suffix>`: QoS 0 and never retained, so no secret is ever stored. */
function publishProvision(ctx: BrokerContext, session: Session, suffix: string, body: Record<string, unknown>): void {
  ctx.aedes().publish(
    { cmd: 'publish', topic: `$provision/${session.principal.name}/${suffix}`, payload: Buffer.from(JSON.stringify(body)), qos: 0, retain: false, dup: false },
    () => {},
  );
}
