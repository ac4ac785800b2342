import type { PublishPacket } from 'aedes';
import type { ProvisionOutcome } from '../registry/provisioning.js';
import type { BrokerContext } from './broker_context.js';
import type { Session } from './session.js';
import { openRequest, publishAnswer } from './topic_requests.js';

/** After a success the device has this long to read its answer before the broker ends the session. */
const LINGER_AFTER_SUCCESS_MS = 1000;

/**
 * `$provision/<id>/csr` and `$provision/<id>/register` from a provisioning
 * session (docs/INTERFACE.md#onboarding): one request at a time; the answer goes to
 * `…/csr/response` or `…/register/response`, QoS 0, never retained. After a
 * success the session ends: a claim session does one thing.
 */
export function handleProvisionRequest(ctx: BrokerContext, session: Session, packet: PublishPacket): void {
  const kind = packet.topic.endsWith('/csr') ? 'csr' : 'register';
  // QoS 0 and never retained (publishAnswer): the answer may carry a certificate or a secret.
  const request = openRequest(packet.payload, (body) => publishAnswer(ctx, `$provision/${session.principal.name}/${kind}/response`, body));
  if (!request) return;
  const services = ctx.onboarding;
  if (!services) return request.fail('server_error', 'provisioning is not enabled');
  if (session.provisioning) return request.fail('slow_down', 'one request at a time');
  session.provisioning = true;
  services.provisioner
    .provision({
      claimId: session.credential.id,
      clientId: session.principal.name,
      kind,
      csrPem: request.body.csr,
      remote: session.remote,
      via: 'mqtt',
    })
    .catch((err: unknown): ProvisionOutcome => {
      ctx.log.error({ err }, 'provisioning failed');
      return { ok: false, code: 'server_error', description: 'provisioning failed' };
    })
    .then((outcome) => {
      session.provisioning = false;
      if (!outcome.ok) return request.fail(outcome.code, outcome.description);
      request.reply(outcome.body);
      setTimeout(() => ctx.endSession(session, 'provisioned', 'provisioned: the claim session has done its work'), LINGER_AFTER_SUCCESS_MS).unref();
    });
}
