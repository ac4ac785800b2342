import type { Session } from './session.js';

/**
 * Live sessions with the indexes revocation needs: by MQTT client id, by
 * principal name, by credential id (jti, PAT id, ...) and by certificate
 * serial. Revoking anything is a map lookup, never a scan.
 */
export class SessionTable {
  readonly #byClientId = new Map<string, Session>();
  // Most keys index a single session: the session itself is stored until a
  // second one arrives, and only then a Set (10,000 devices, 20,000 fewer Sets).
  readonly #byPrincipal = new Map<string, Indexed>();
  readonly #byCredential = new Map<string, Indexed>();
  readonly #byCertificate = new Map<string, Indexed>();

  get size(): number {
    return this.#byClientId.size;
  }

  add(session: Session): void {
    this.#byClientId.set(session.clientId, session);
    if (!ownId(session)) addTo(this.#byPrincipal, session.principal.name, session);
    this.#indexCredential(session);
  }

  /** Removes `session` only if it is still the one registered (a takeover may have replaced it). */
  remove(session: Session): boolean {
    if (this.#byClientId.get(session.clientId) !== session) return false;
    this.#byClientId.delete(session.clientId);
    if (!ownId(session)) removeFrom(this.#byPrincipal, session.principal.name, session);
    this.#unindexCredential(session);
    return true;
  }

  /** Call around a credential replacement (renewal) to keep the indexes right. */
  replaceCredential(session: Session, apply: () => void): void {
    this.#unindexCredential(session);
    apply();
    this.#indexCredential(session);
  }

  byClientId(id: string): Session | undefined {
    return this.#byClientId.get(id);
  }

  byPrincipal(name: string): Session[] {
    const list = listOf(this.#byPrincipal.get(name));
    const own = this.#byClientId.get(name);
    if (own !== undefined && ownId(own)) list.push(own);
    return list;
  }

  byCredential(id: string): Session[] {
    return listOf(this.#byCredential.get(id));
  }

  byCertificate(serial: string): Session[] {
    return listOf(this.#byCertificate.get(serial));
  }

  all(): IterableIterator<Session> {
    return this.#byClientId.values();
  }

  #indexCredential(session: Session): void {
    addTo(this.#byCredential, session.credential.id, session);
    if (session.credential.certificateSerial) addTo(this.#byCertificate, session.credential.certificateSerial, session);
  }

  #unindexCredential(session: Session): void {
    removeFrom(this.#byCredential, session.credential.id, session);
    if (session.credential.certificateSerial) removeFrom(this.#byCertificate, session.credential.certificateSerial, session);
  }
}

/**
 * Whether the session's MQTT client id is its principal's name (every device
 * session): the client id index already finds it by that name, so the
 * principal index holds only the others (`alice@laptop`).
 */
function ownId(session: Session): boolean {
  return session.clientId === session.principal.name;
}

/** One session, or a Set once a key has several. */
type Indexed = Session | Set<Session>;

function listOf(entry: Indexed | undefined): Session[] {
  if (entry === undefined) return [];
  return entry instanceof Set ? [...entry] : [entry];
}

function addTo(index: Map<string, Indexed>, key: string, session: Session): void {
  const entry = index.get(key);
  if (entry === undefined) index.set(key, session);
  else if (entry instanceof Set) entry.add(session);
  else if (entry !== session) index.set(key, new Set([entry, session]));
}

function removeFrom(index: Map<string, Indexed>, key: string, session: Session): void {
  const entry = index.get(key);
  if (entry === session) {
    index.delete(key);
  } else if (entry instanceof Set) {
    entry.delete(session);
    // Back to a single session (or none), as if it had never had two.
    if (entry.size === 1) index.set(key, entry.values().next().value!);
    else if (entry.size === 0) index.delete(key);
  }
}
