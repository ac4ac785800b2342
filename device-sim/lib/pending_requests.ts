import { randomUUID } from 'node:crypto';

/**
 * Request/response over MQTT: each request carries a fresh `request_id` and
 * the answer with the same id settles it. Answers nobody waits for (late,
 * duplicated, or for another request) are dropped.
 *
 * @example
 * const pending = new PendingRequests<TokenResponse>();
 * const { id, answer } = pending.open(5_000);
 * client.publish(topic, JSON.stringify({ request_id: id }));
 * // in the message handler: pending.settle(parsed.request_id, parsed);
 * const res = await answer; // rejects on timeout
 */
export class PendingRequests<T> {
  private readonly waiting = new Map<string, { resolve: (value: T) => void; reject: (err: Error) => void; timer: NodeJS.Timeout }>();

  /** A new request id and a promise for its answer, rejected after `timeoutMs`. */
  open(timeoutMs: number): { id: string; answer: Promise<T> } {
    const id = randomUUID();
    const answer = new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error(`no answer to request ${id} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.set(id, { resolve, reject, timer });
    });
    return { id, answer };
  }

  /** Delivers an answer; returns false when nobody was waiting for this id. */
  settle(id: string, value: T): boolean {
    const entry = this.waiting.get(id);
    if (entry === undefined) return false;
    clearTimeout(entry.timer);
    this.waiting.delete(id);
    entry.resolve(value);
    return true;
  }

  /** Fails every open request, e.g. when the connection they were sent on closes. */
  failAll(reason: string): void {
    for (const [id, entry] of this.waiting) {
      clearTimeout(entry.timer);
      entry.reject(new Error(reason));
      this.waiting.delete(id);
    }
  }
}
