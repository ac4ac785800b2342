import { performance } from 'node:perf_hooks';
import { publishBatch, publishTemplate } from './encode.js';
import { RawMqttClient, type Target } from './mqtt_client.js';

export interface PubSubOptions {
  /** Where publishers connect, and subscribers too unless {@link subscriberTarget} is set. */
  target: Target;
  /** Where subscribers connect (another cluster node); default {@link target}. */
  subscriberTarget?: Target;
  /** CONNECT packet of each publisher. */
  publishers: Buffer[];
  /** CONNECT packet of each subscriber. */
  subscribers: Buffer[];
  /** Topic every publisher publishes to, and the filter every subscriber takes. */
  topic: string;
  filter: string;
  qos: 0 | 1;
  messagesPerPublisher: number;
  payloadBytes: number;
  /** QoS 1 messages in flight per publisher (unacknowledged). */
  window: number;
  timeLimitMs: number;
  /** Publishers stop sending after this long (ms); what they sent must still all arrive. Default: no limit. */
  sendTimeMs?: number;
  /** Give up when no message was delivered for this long (lost messages never arrive); default 5 s. */
  stallMs?: number;
}

export interface PubSubResult {
  /** Messages actually sent (fewer than asked when the send budget ran out). */
  published: number;
  /** published × subscribers: every message must reach every subscriber. */
  expected: number;
  delivered: number;
  /** From the first PUBLISH written to the last delivery (and, at QoS 1, the last PUBACK), ms. */
  durationMs: number;
  timedOut: boolean;
}

/** QoS 0 messages per socket write: large enough to keep syscalls off the generator's profile. */
const QOS0_BATCH = 64;

/**
 * Publish throughput with zero loss checked: subscribers connect and
 * subscribe first, then publishers send `messagesPerPublisher` each (QoS 0
 * as fast as the socket drains; QoS 1 with a window of unacknowledged
 * messages), and the run ends when every subscriber has counted every
 * message or the time limit passes.
 *
 * @example const r = await pubSub({ ...opts, qos: 1 }); r.delivered === r.expected
 */
export async function pubSub(opts: PubSubOptions): Promise<PubSubResult> {
  const subscribers: RawMqttClient[] = [];
  const publishers: RawMqttClient[] = [];
  const connectAll = async (target: Target, packets: Buffer[], into: RawMqttClient[]) => {
    for (const packet of packets) {
      const { client, returnCode } = await RawMqttClient.connect(target, packet);
      if (returnCode !== 0) throw new Error(`CONNECT refused with ${returnCode}`);
      into.push(client);
    }
  };
  try {
    await connectAll(opts.subscriberTarget ?? opts.target, opts.subscribers, subscribers);
    for (const s of subscribers) {
      const granted = await s.subscribe(opts.filter, opts.qos);
      if (granted !== opts.qos) throw new Error(`SUBSCRIBE ${opts.filter} answered ${granted}`);
    }
    await connectAll(opts.target, opts.publishers, publishers);

    const template = publishTemplate(opts.topic, Buffer.alloc(opts.payloadBytes, 0x61), opts.qos);
    let published = 0;
    let sending = true;
    let delivered = 0;
    let acked = 0;
    let finish!: (timedOut: boolean) => void;
    const done = new Promise<boolean>((resolve) => (finish = resolve));
    const check = () => {
      if (!sending && delivered >= published * subscribers.length && (opts.qos === 0 || acked >= published)) finish(false);
    };
    for (const s of subscribers) {
      let seen = 0;
      s.onChunk = () => {
        delivered += s.received - seen;
        seen = s.received;
        check();
      };
    }
    const timer = setTimeout(() => finish(true), opts.timeLimitMs);
    let lastProgress = -1;
    const stallCheck = setInterval(() => {
      if (delivered === lastProgress) finish(true);
      lastProgress = delivered;
    }, opts.stallMs ?? 5_000);
    const start = performance.now();
    const sendUntil = start + (opts.sendTimeMs ?? Number.POSITIVE_INFINITY);
    if (opts.qos === 0) {
      const batch = publishBatch(template, QOS0_BATCH, 0);
      await Promise.all(
        publishers.map(async (p) => {
          for (let sent = 0; sent < opts.messagesPerPublisher && performance.now() < sendUntil; sent += QOS0_BATCH) {
            const n = Math.min(QOS0_BATCH, opts.messagesPerPublisher - sent);
            published += n;
            await p.write(n === QOS0_BATCH ? batch : batch.subarray(0, n * template.bytes.length));
            if (p.closedAt !== null) break;
          }
        }),
      );
      sending = false;
      check();
    } else {
      let active = publishers.length;
      for (const p of publishers) {
        let sent = 0;
        let ackedHere = 0;
        let nextId = 1;
        let stopped = false;
        const refill = () => {
          if (stopped) return;
          if (sent >= opts.messagesPerPublisher || performance.now() >= sendUntil) {
            stopped = true;
            if (--active === 0) sending = false;
            return;
          }
          const room = Math.min(opts.window - (sent - ackedHere), opts.messagesPerPublisher - sent);
          if (room <= 0) return;
          void p.write(publishBatch(template, room, nextId));
          nextId = ((nextId - 1 + room) % 65535) + 1;
          sent += room;
          published += room;
        };
        p.onPuback = () => {
          ackedHere++;
          acked++;
        };
        p.onChunk = () => {
          refill();
          check();
        };
        refill();
      }
    }
    const timedOut = await done;
    const durationMs = performance.now() - start;
    clearTimeout(timer);
    clearInterval(stallCheck);
    return { published, expected: published * subscribers.length, delivered, durationMs, timedOut };
  } finally {
    await Promise.all([...publishers, ...subscribers].map((c) => c.disconnect()));
  }
}
