import type { Redis } from 'ioredis';
import { createRequire } from 'node:module';
import { isSessionOf } from '../store/aedes_persistence.js';
import type { AedesPersistence } from '../store/aedes_persistence/persistence_interface.js';

/** aedes-persistence-redis' promise interface (asyncPersistence.js), which Aedes 1.2 drives directly. */
type LibraryPersistence = Omit<AedesPersistence, 'forgetPrincipal'>;
interface LibraryOptions {
  /** The connection to use; the library disconnects it in `destroy`. */
  conn: Redis;
  /** Most queued messages delivered to a reconnecting session at once (library default 1000). */
  maxSessionDelivery?: number;
}

const require = createRequire(import.meta.url);
const AsyncRedisPersistence = require('aedes-persistence-redis/asyncPersistence.js') as new (opts: LibraryOptions) => LibraryPersistence;

// The library's key layout (asyncPersistence.js), read here only to forget a deleted principal.
const CLIENTS_SET = 'clients';
const WILLS_LIST = 'will';
const outgoingList = (clientId: string) => `outgoing:${encodeURIComponent(clientId)}`;
const incomingHash = (clientId: string) => `incoming:${encodeURIComponent(clientId)}`;

/**
 * The MQTT state of a cluster in Redis: aedes-persistence-redis (retained
 * messages, persistent subscriptions, queued and in-flight QoS 1/2 messages,
 * incoming QoS 2 packets, wills), plus what latchkey needs beyond the
 * Aedes interface: {@link forgetPrincipal}. Subscriptions are announced to
 * every node over the shared message bus, so each node's in-memory index of
 * offline subscriptions stays whole.
 *
 * It sits behind the credential-safe wrapper like the SQLite one: no
 * `$auth/` or `$provision/` packet reaches it.
 */
export class RedisPersistence extends AsyncRedisPersistence implements AedesPersistence {
  readonly #db: Redis;

  constructor(db: Redis, maxSessionDelivery?: number) {
    super({ conn: db, ...(maxSessionDelivery ? { maxSessionDelivery } : {}) });
    this.#db = db;
  }

  /**
   * Waits for the commands already sent (the library fires some without
   * waiting, e.g. while wills are removed as clients close), then lets the
   * library disconnect: a command cut off by the disconnect would reject
   * with nobody listening.
   */
  // A field, not a method: the library's type (an Omit<> of the interface) declares its methods as properties.
  override destroy = async (): Promise<void> => {
    await this.#db.ping().catch(() => {});
    await super.destroy();
  };

  /**
   * Deletes a deleted principal's sessions: every client id that
   * {@link isSessionOf} it, found in the set of clients with persistent
   * subscriptions and in the keys of incoming QoS 2 state and wills.
   * Subscriptions go through the library (which tells every node's index);
   * queued messages are released from the shared packets they point at.
   * Every node runs this on the same change: each step is idempotent.
   */
  async forgetPrincipal(principal: string): Promise<void> {
    const sessions = (await this.#db.smembers(CLIENTS_SET)).filter((id) => isSessionOf(principal, id));
    for (const id of sessions) {
      await this.#releaseQueue(id);
      await this.cleanSubscriptions({ id });
      await this.#db.del(outgoingList(id), incomingHash(id));
    }
    for (const key of await this.#keysOfPrincipal('incoming:', principal)) await this.#db.del(key);
    for (const key of await this.#db.lrange(WILLS_LIST, 0, -1)) {
      const clientId = decodeURIComponent(key.slice(key.lastIndexOf(':') + 1));
      if (!isSessionOf(principal, clientId)) continue;
      await this.#db.lrem(WILLS_LIST, 0, key);
      await this.#db.del(key);
    }
  }

  /** Drops a client's queue: a shared packet goes when no other queue refers to it, a QoS 2 copy at once. */
  async #releaseQueue(clientId: string): Promise<void> {
    for (const key of await this.#db.lrange(outgoingList(clientId), 0, -1)) {
      if (!key.startsWith('packet:')) {
        await this.#db.del(key);
        continue;
      }
      const remaining = await this.#db.decr(`${key}:offlineCount`);
      if (remaining <= 0) await this.#db.del(key, `${key}:offlineCount`);
    }
  }

  /** Keys `<prefix><principal>` and `<prefix><principal>@…` (URI-encoded, as the library writes them). */
  async #keysOfPrincipal(prefix: string, principal: string): Promise<string[]> {
    const encoded = `${prefix}${encodeURIComponent(principal)}`;
    const found = new Set<string>();
    for (const pattern of [globEscape(encoded), `${globEscape(encoded)}%40*`]) {
      let cursor = '0';
      do {
        const [next, keys] = await this.#db.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
        for (const key of keys) found.add(key);
        cursor = next;
      } while (cursor !== '0');
    }
    return [...found];
  }
}

function globEscape(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}
