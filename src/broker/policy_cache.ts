import { compilePolicy, type CompiledPolicy, decide, type Decision, type MqttAction, type Scope } from '../policy/index.js';
import type { TopicLimits } from '../policy/topic.js';

const DECISIONS_PER_ACTION = 512;

/**
 * A compiled policy with its decisions cached per topic, so the publish and
 * delivery paths cost a map lookup. Shared by every session of the same
 * principal with the same scopes.
 */
export class CachedPolicy {
  // Made on first use: most idle sessions' policies never decide anything, and
  // two empty Maps per policy were a fair part of an idle session's heap.
  #publish: Map<string, Decision> | null = null;
  #subscribe: Map<string, Decision> | null = null;

  constructor(
    readonly policy: CompiledPolicy,
    private readonly limits: TopicLimits,
  ) {}

  decide(action: MqttAction, topic: string): Decision {
    const cache = action === 'publish' ? (this.#publish ??= new Map()) : (this.#subscribe ??= new Map());
    let decision = cache.get(topic);
    if (decision === undefined) {
      decision = decide(this.policy, action, topic, this.limits);
      // Bounded: a client cycling through endless topics cannot grow it.
      if (cache.size >= DECISIONS_PER_ACTION) cache.clear();
      cache.set(topic, decision);
    }
    return decision;
  }
}

/**
 * One {@link CachedPolicy} per (principal, scopes): ten thousand thermostat
 * sessions of one fleet need ten thousand policies only because each
 * `{client_id}` differs, and a person's several sessions share one.
 */
export class PolicyCache {
  // Scope text, then principal name: the principal's own name string is the
  // only per-session key, rather than a concatenated key string per session.
  readonly #entries = new Map<string, Map<string, CachedPolicy>>();
  #size = 0;

  constructor(
    private readonly limits: TopicLimits,
    private readonly capacity = 50_000,
  ) {}

  get(principalName: string, scopes: readonly Scope[]): CachedPolicy {
    const text = scopesText(scopes);
    let byPrincipal = this.#entries.get(text);
    let cached = byPrincipal?.get(principalName);
    if (!cached) {
      if (this.#size >= this.capacity) {
        this.#entries.clear();
        this.#size = 0;
        byPrincipal = undefined;
      }
      if (!byPrincipal) this.#entries.set(text, (byPrincipal = new Map()));
      cached = new CachedPolicy(compilePolicy(principalName, scopes), this.limits);
      byPrincipal.set(principalName, cached);
      this.#size++;
    }
    return cached;
  }
}

/** The scope text of a shared scope list, joined once per list rather than once per connect. */
const joined = new WeakMap<readonly Scope[], string>();

function scopesText(scopes: readonly Scope[]): string {
  let text = joined.get(scopes);
  if (text === undefined) {
    text = scopes.map((s) => s.raw).join(' ');
    // Only frozen lists (sharedScopes) are remembered: a mutable one could change under its key.
    if (Object.isFrozen(scopes)) joined.set(scopes, text);
  }
  return text;
}
