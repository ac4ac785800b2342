import mqemitter from 'mqemitter';
import { isCredentialTopic } from '../policy/credential_topics.js';

type MQEmitter = mqemitter.MQEmitter;
type Message = mqemitter.Message;
type Listener = (message: Message, done: () => void) => void;

/**
 * The message bus of a cluster node: every topic goes through the shared
 * (Redis) emitter so all nodes see it, except credential topics
 * (`$auth/…`, `$provision/…`), which stay in this process.
 *
 * Why: a `$auth/<id>/token/response` carries a freshly signed token and a
 * `$auth/<id>/reauth` the device's current one; over Redis pub/sub they
 * would pass through Redis, where MONITOR, a replica or a proxy sees them
 * (docs/CLUSTER.md, the credential-topic rule). They need not travel: a
 * request reaches the node the device is connected to, and that node
 * answers on the same connection. A device that moves to another node
 * between request and answer asks again, as after a restart.
 *
 * Every listener is registered on both emitters (a message arrives through
 * one of them only, so never twice); `emit` picks the emitter by topic.
 */
export class CredentialLocalMq implements MQEmitter {
  readonly #shared: MQEmitter;
  readonly #local: MQEmitter;
  #closed = false;

  constructor(shared: MQEmitter, options: { concurrency?: number } = {}) {
    this.#shared = shared;
    // Aedes' own emitter options: '+' and '#' match empty levels [MQTT-4.7.1-3].
    this.#local = mqemitter({ matchEmptyLevels: true, ...(options.concurrency ? { concurrency: options.concurrency } : {}) });
  }

  get current(): number {
    return this.#shared.current + this.#local.current;
  }

  get concurrent(): number {
    return this.#shared.concurrent;
  }

  on(topic: string, listener: Listener, callback?: () => void): this {
    this.#local.on(topic, listener);
    this.#shared.on(topic, listener, callback);
    return this;
  }

  emit(message: Message, callback?: (error?: Error) => void): void {
    if (isCredentialTopic(message.topic)) return this.#local.emit(message, callback);
    if (this.#closed) {
      // Closing: Aedes still announces the clients it just closed, and an error here would reach a
      // closed client's 'error' event (thrown, with no listener left). Nobody can receive it now.
      if (callback) setImmediate(callback);
      return;
    }
    this.#shared.emit(message, callback);
  }

  removeListener(topic: string, listener: Listener, callback?: () => void): void {
    this.#local.removeListener(topic, listener);
    // After close (the persistence unsubscribes as it is destroyed) Redis is gone: nothing to tell it.
    if (this.#closed) {
      if (callback) setImmediate(callback);
      return;
    }
    this.#shared.removeListener(topic, listener, callback);
  }

  close(callback: () => void): void {
    this.#closed = true;
    this.#local.close(() => this.#shared.close(callback));
  }
}
