import type { PublishPacket } from 'aedes';
import { LatchkeyError } from '../errors/latchkey_error.js';
import { publishAuth } from './auth_topics.js';
import type { BrokerContext } from './broker_context.js';
import type { Session } from './session.js';
import { openRequest, takeTurn } from './topic_requests.js';

/** Signing is the costliest thing a device can ask for: one renewal per five seconds per session. */
const MIN_INTERVAL_MS = 5000;

/**
 * `$auth/<id>/cert/renew` (docs/INTERFACE.md#onboarding): a session that authenticated with
 * a latchkey certificate sends a CSR for a new key (CN = its id) and gets
 * a new certificate on `$auth/<id>/cert/renew/response`. The session keeps
 * running on the old certificate; the new one is recorded and used at the
 * next connect.
 */
export function handleCertRenewal(ctx: BrokerContext, session: Session, packet: PublishPacket): void {
  const request = openRequest(packet.payload, (body) => publishAuth(ctx, session, 'cert/renew/response', body));
  if (!request) return;
  const { body } = request;
  const refuse = (error: string, description: string) => {
    ctx.audit.record({ event: 'certificate.renewal_refused', principal: session.principal.name, outcome: 'failure', reason: `${error}: ${description}`, remote: session.remote });
    request.fail(error, description);
  };
  const services = ctx.onboarding;
  if (!services) return refuse('server_error', 'certificate renewal is not enabled');
  const serial = session.credential.certificateSerial;
  if (session.principal.kind !== 'client' || session.credential.method !== 'certificate' || serial === null) {
    return refuse('unauthorized_client', 'only a session authenticated by a certificate renews one');
  }
  if (typeof body.csr !== 'string' || body.csr.length === 0) return refuse('invalid_request', 'csr must be a PEM string');
  if (!takeTurn(session, 'lastCertRenewalAt', MIN_INTERVAL_MS)) return refuse('slow_down', 'one certificate renewal per 5 seconds');
  services.provisioner.renewCertificate(session.principal.name, serial, body.csr, session.remote).then(
    (issued) => request.reply({ certificate: issued.certPem, not_after: issued.notAfter.toISOString() }),
    (err: unknown) => {
      if (err instanceof LatchkeyError) return refuse(err.code === 'invalid_csr' || err.code === 'invalid_id' ? 'invalid_csr' : 'invalid_request', err.message);
      ctx.log.error({ err }, 'certificate renewal failed');
      refuse('server_error', 'certificate renewal failed');
    },
  );
}
