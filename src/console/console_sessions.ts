import { createHash, randomBytes } from 'node:crypto';

/** A console session ends after this long without a request from its page. */
export const IDLE_TIMEOUT_MS = 30 * 60_000;

/** Beyond this many live sessions the oldest is dropped: a bound on memory, not a login limit. */
const MAX_SESSIONS = 1000;

/** Who a console session acts as. */
export interface ConsoleIdentity {
  /** `operator`: a `latchkey console` link without --user. */
  kind: 'operator' | 'user';
  name: string;
  /** The PAT pasted at login (re-checked on every request), or null for a login link. */
  patId: string | null;
  /** The most this session may do; narrowed on every request to what the user still holds. */
  access: 'read' | 'write';
}

export interface ConsoleSession {
  identity: ConsoleIdentity;
  /** Sent by the page in `X-CSRF-Token` on every change; never in a cookie. */
  readonly csrf: string;
  lastSeen: number;
}

/**
 * Console sessions, in memory: a restart logs everyone out, which suits a
 * console (a new `latchkey console` link is one command away). The cookie
 * value is 256 random bits; the map is keyed by its SHA-256, so what is in
 * memory cannot be replayed as a cookie.
 *
 * @example const { cookie, session } = sessions.create(identity, Date.now());
 */
export class ConsoleSessions {
  readonly #byHash = new Map<string, ConsoleSession>();

  constructor(private readonly idleMs: number = IDLE_TIMEOUT_MS) {}

  create(identity: ConsoleIdentity, now: number): { cookie: string; session: ConsoleSession } {
    this.prune(now);
    if (this.#byHash.size >= MAX_SESSIONS) this.#byHash.delete(this.#byHash.keys().next().value!);
    const cookie = randomBytes(32).toString('base64url');
    const session: ConsoleSession = { identity, csrf: randomBytes(32).toString('base64url'), lastSeen: now };
    this.#byHash.set(hashOf(cookie), session);
    return { cookie, session };
  }

  /** The live session a cookie names, or undefined (unknown or idle too long; an idle one is forgotten). */
  get(cookie: string, now: number): ConsoleSession | undefined {
    const key = hashOf(cookie);
    const session = this.#byHash.get(key);
    if (!session) return undefined;
    if (now - session.lastSeen > this.idleMs) {
      this.#byHash.delete(key);
      return undefined;
    }
    return session;
  }

  end(cookie: string): void {
    this.#byHash.delete(hashOf(cookie));
  }

  /** Ends every session of a user (disabled, or lost admin scope). */
  endSession(session: ConsoleSession): void {
    for (const [key, value] of this.#byHash) if (value === session) this.#byHash.delete(key);
  }

  prune(now: number): void {
    for (const [key, session] of this.#byHash) if (now - session.lastSeen > this.idleMs) this.#byHash.delete(key);
  }

  get size(): number {
    return this.#byHash.size;
  }
}

function hashOf(cookie: string): string {
  return createHash('sha256').update(cookie).digest('base64url');
}
