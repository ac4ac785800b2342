import type { Client } from 'aedes';
import type { CompiledPolicy, Decision, MqttAction, Scope } from '../policy/index.js';
import type { CachedPolicy } from './policy_cache.js';
import { decideProvisioning } from './provision_topics.js';

/** How the session proved who it is. */
export type AuthMethod = 'jwt' | 'certificate' | 'pat' | 'apikey' | 'static_password' | 'claim';

/**
 * Whose session it is: a device (OAuth client), a user (PAT), an
 * integration (API key), or a device not yet registered that presents an
 * onboarding claim (its name is the client id it asks for).
 */
export interface Principal {
  kind: 'client' | 'user' | 'apikey' | 'claim';
  /** The client id, user name or API key name; names the `$auth` topics. */
  name: string;
}

/** The credential a session currently stands on; replaced on renewal. */
export interface Credential {
  method: AuthMethod;
  /** jti of a JWT, PAT id, API key secret id, or certificate serial. */
  id: string;
  /** Scopes the credential itself carries, cut to the principal's current ones; null = exactly the principal's. */
  scopes: readonly Scope[] | null;
  /** Seconds since the epoch; Infinity when it never expires. */
  exp: number;
  /** Seconds since the epoch, when the credential was issued (for the warning window). */
  iat: number;
  /** Serial of the client certificate the connection presented, if any. */
  certificateSerial: string | null;
  /** x5t#S256 of that certificate, if any. */
  certificateThumbprint: string | null;
  /**
   * For a JWT: the incarnation of the client it was issued to (null when
   * the token carries none), checked against the client as it is now.
   */
  incarnation?: string | null;
}

/**
 * One live MQTT session and what it may do. What it may do is a shared
 * {@link CachedPolicy}; any change of scope swaps in another one.
 */
export class Session {
  #policy: CachedPolicy;
  /** Whether `$auth/<id>/expiring` has been sent for the current credential. */
  warned = false;
  /** Set once the broker has decided to end this session, so it is ended once. */
  ending = false;
  readonly connectedAt = Date.now();
  lastRenewalAt = 0;
  lastClaimAt = 0;
  lastCertRenewalAt = 0;
  /** A provisioning request is being answered (one at a time). */
  provisioning = false;

  constructor(
    readonly client: Client,
    readonly principal: Principal,
    public credential: Credential,
    policy: CachedPolicy,
    readonly remote: string | null,
  ) {
    this.#policy = policy;
  }

  get clientId(): string {
    return this.client.id;
  }

  /** Replaces what the session may do (renewal or a scope change). */
  setPolicy(policy: CachedPolicy): void {
    this.#policy = policy;
  }

  get policy(): CompiledPolicy {
    return this.#policy.policy;
  }

  /**
   * The policy decision for a topic (publish) or filter / delivered topic
   * (subscribe), cached. A provisioning session answers from its topic jail
   * (`$provision/<id>/` only), never from scopes.
   */
  decide(action: MqttAction, topic: string): Decision {
    if (this.principal.kind === 'claim') return decideProvisioning(this.principal.name, action, topic);
    return this.#policy.decide(action, topic);
  }
}
