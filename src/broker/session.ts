import type { Client } from 'aedes';
import { compilePolicy, type CompiledPolicy, decide, type Decision, type MqttAction, type Scope } from '../policy/index.js';
import type { TopicLimits } from '../policy/topic.js';

/** How the session proved who it is. */
export type AuthMethod = 'jwt' | 'certificate' | 'pat' | 'apikey';

/** Whose session it is: a device (OAuth client), a user (PAT) or an integration (API key). */
export interface Principal {
  kind: 'client' | 'user' | 'apikey';
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
}

const DECISION_CACHE_LIMIT = 512;

/**
 * One live MQTT session and what it may do. Decisions are cached per topic
 * so the publish and delivery paths cost a map lookup; any change of scope
 * builds a new policy and drops the cache.
 */
export class Session {
  #policy: CompiledPolicy;
  #publishCache = new Map<string, Decision>();
  #subscribeCache = new Map<string, Decision>();
  /** Whether `$auth/<id>/expiring` has been sent for the current credential. */
  warned = false;
  /** Set once the broker has decided to end this session, so it is ended once. */
  ending = false;
  readonly connectedAt = Date.now();
  lastRenewalAt = 0;

  constructor(
    readonly client: Client,
    readonly principal: Principal,
    public credential: Credential,
    effectiveScopes: readonly Scope[],
    readonly remote: string | null,
    private readonly limits: TopicLimits,
  ) {
    this.#policy = compilePolicy(principal.name, effectiveScopes);
  }

  get clientId(): string {
    return this.client.id;
  }

  /** Replaces what the session may do (renewal or a scope change). */
  setScopes(effectiveScopes: readonly Scope[]): void {
    this.#policy = compilePolicy(this.principal.name, effectiveScopes);
    this.#publishCache = new Map();
    this.#subscribeCache = new Map();
  }

  get policy(): CompiledPolicy {
    return this.#policy;
  }

  /** The policy decision for a topic (publish) or filter / delivered topic (subscribe), cached. */
  decide(action: MqttAction, topic: string): Decision {
    const cache = action === 'publish' ? this.#publishCache : this.#subscribeCache;
    let decision = cache.get(topic);
    if (decision === undefined) {
      decision = decide(this.#policy, action, topic, this.limits);
      // A bounded cache: a client cycling through endless topics cannot grow it.
      if (cache.size >= DECISION_CACHE_LIMIT) cache.clear();
      cache.set(topic, decision);
    }
    return decision;
  }
}
