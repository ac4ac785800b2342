import type { Session } from './session.js';

/**
 * Live sessions with the indexes revocation needs: by MQTT client id, by
 * principal name, by credential id (jti, PAT id, ...) and by certificate
 * serial. Revoking anything is a map lookup, never a scan.
 */
export class SessionTable {
  readonly #byClientId = new Map<string, Session>();
  readonly #byPrincipal = new Map<string, Set<Session>>();
  readonly #byCredential = new Map<string, Set<Session>>();
  readonly #byCertificate = new Map<string, Set<Session>>();

  get size(): number {
    return this.#byClientId.size;
  }

  add(session: Session): void {
    this.#byClientId.set(session.clientId, session);
    addTo(this.#byPrincipal, session.principal.name, session);
    this.#indexCredential(session);
  }

  /** Removes `session` only if it is still the one registered (a takeover may have replaced it). */
  remove(session: Session): boolean {
    if (this.#byClientId.get(session.clientId) !== session) return false;
    this.#byClientId.delete(session.clientId);
    removeFrom(this.#byPrincipal, session.principal.name, session);
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
    return [...(this.#byPrincipal.get(name) ?? [])];
  }

  byCredential(id: string): Session[] {
    return [...(this.#byCredential.get(id) ?? [])];
  }

  byCertificate(serial: string): Session[] {
    return [...(this.#byCertificate.get(serial) ?? [])];
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

function addTo(index: Map<string, Set<Session>>, key: string, session: Session): void {
  let set = index.get(key);
  if (!set) index.set(key, (set = new Set()));
  set.add(session);
}

function removeFrom(index: Map<string, Set<Session>>, key: string, session: Session): void {
  const set = index.get(key);
  set?.delete(session);
  if (set?.size === 0) index.delete(key);
}
