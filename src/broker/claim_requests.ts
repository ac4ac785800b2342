import type { PublishPacket } from 'aedes';
import { LatchkeyError } from '../errors/latchkey_error.js';
import { HUB_CLAIM_LIMITS } from '../onboarding/claims.js';
import { mayProvision, type Scope } from '../policy/index.js';
import { publishAuth } from './auth_topics.js';
import type { BrokerContext } from './broker_context.js';
import { effectiveScopes } from './effective_scopes.js';
import type { Session } from './session.js';
import { openRequest, takeTurn } from './topic_requests.js';

/** One claim per second per hub: enough for a person pairing devices, not for a flood. */
const MIN_INTERVAL_MS = 1000;

/**
 * `$auth/<hub>/claim/request` (docs/INTERFACE.md#onboarding): a client holding
 * `provision:<template>` mints a short-lived claim (at most 15 minutes and
 * 10 uses; larger asks are refused, not cut) and hands it to a new device
 * out of band. `template` may be left out when the hub may provision
 * exactly one. Answer on `$auth/<hub>/claim/response`.
 */
export function handleClaimRequest(ctx: BrokerContext, session: Session, packet: PublishPacket): void {
  const request = openRequest(packet.payload, (body) => publishAuth(ctx, session, 'claim/response', body));
  if (!request) return;
  const { body } = request;
  const refuse = (error: string, description: string) => {
    ctx.audit.record({ event: 'claim.refused', principal: session.principal.name, outcome: 'failure', reason: `${error}: ${description}`, remote: session.remote, detail: { via: 'claim/request' } });
    request.fail(error, description);
  };
  const services = ctx.onboarding;
  if (!services) return refuse('server_error', 'onboarding is not enabled');
  if (session.principal.kind !== 'client') return refuse('unauthorized_client', 'only a device client may vouch for devices');
  if (!takeTurn(session, 'lastClaimAt', MIN_INTERVAL_MS)) return refuse('slow_down', 'one claim per second');

  const state = ctx.principals.lookup(session.principal);
  const scopes = state ? effectiveScopes(session.credential.scopes, state.scopes, session.principal.name) : [];
  const template = chooseTemplate(scopes, body.template);
  if (template === null) return refuse('insufficient_scope', 'this client holds no provision:<template> scope');
  if (template === undefined) return refuse('invalid_request', 'this client may provision several templates: name one in "template"');
  if (!mayProvision(scopes, template)) return refuse('insufficient_scope', `this client does not hold provision:${template}`);
  try {
    const created = services.claims.create(
      template,
      { uses: body.uses, expiresIn: body.expires_in },
      HUB_CLAIM_LIMITS,
      `client:${session.principal.name}`,
      services.endpoint(),
    );
    request.reply({ claim: created.claim, onboarding: created.onboarding, expires_at: created.expires_at, id: created.id });
  } catch (err) {
    if (err instanceof LatchkeyError) return refuse('invalid_request', err.message);
    ctx.log.error({ err }, 'claim request failed');
    refuse('server_error', 'claim request failed');
  }
}

/** The template asked for; else the only one held; null when none is held, undefined when it is ambiguous. */
function chooseTemplate(scopes: readonly Scope[], asked: unknown): string | null | undefined {
  if (typeof asked === 'string') return asked;
  const held = [...new Set(scopes.flatMap((s) => (s.kind === 'provision' ? [s.template] : [])))];
  if (held.length === 0) return null;
  return held.length === 1 ? held[0] : undefined;
}
