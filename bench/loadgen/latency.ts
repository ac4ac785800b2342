import { performance } from 'node:perf_hooks';
import { publishBatch, publishTemplate } from './encode.js';
import { RawMqttClient, type Target } from './mqtt_client.js';

export interface LatencyOptions {
  /** Where the publisher connects. */
  publisherTarget: Target;
  /** Where the subscriber connects: the same node, or another node of the cluster. */
  subscriberTarget: Target;
  publisher: Buffer;
  subscriber: Buffer;
  topic: string;
  filter: string;
  qos: 0 | 1;
  /** Messages per second, evenly paced: latency, not queueing behind a burst. */
  ratePerSecond: number;
  /** How long to publish, ms. */
  durationMs: number;
  payloadBytes: number;
  /** Give up waiting for the rest after this long without a delivery; default 5 s. */
  stallMs?: number;
}

export interface LatencyResult {
  sent: number;
  received: number;
  /** Publish written → delivered to the subscriber, ms, one per message received. */
  latencies: number[];
  timedOut: boolean;
}

/** Bytes of the send time (float64, performance.now()) at the start of every payload. */
const STAMP_BYTES = 8;

/**
 * One publisher and one subscriber, each on its own node (or both on one),
 * publishing at a steady rate with the send time in the payload; the
 * subscriber, in this same process and so on the same clock, reads it
 * back. Every message sent must arrive.
 *
 * @example const r = await latencyProbe({ ...opts, publisherTarget: nodeA, subscriberTarget: nodeB, qos: 1 });
 */
export async function latencyProbe(opts: LatencyOptions): Promise<LatencyResult> {
  const { client: subscriber, returnCode: subCode } = await RawMqttClient.connect(opts.subscriberTarget, opts.subscriber);
  const { client: publisher, returnCode: pubCode } = await RawMqttClient.connect(opts.publisherTarget, opts.publisher);
  try {
    if (subCode !== 0 || pubCode !== 0) throw new Error(`CONNECT refused: subscriber ${subCode}, publisher ${pubCode}`);
    const granted = await subscriber.subscribe(opts.filter, opts.qos);
    if (granted !== opts.qos) throw new Error(`SUBSCRIBE ${opts.filter} answered ${granted}`);

    const latencies: number[] = [];
    subscriber.onPublish = (payload) => latencies.push(performance.now() - payload.readDoubleBE(0));
    const template = publishTemplate(opts.topic, Buffer.alloc(Math.max(STAMP_BYTES, opts.payloadBytes), 0x61), opts.qos);
    const stampAt = template.bytes.length - Math.max(STAMP_BYTES, opts.payloadBytes);
    const intervalMs = 1000 / opts.ratePerSecond;
    const start = performance.now();
    let sent = 0;
    // Timers fire late on a busy machine: each tick sends every message that is due, stamped as it is written.
    await new Promise<void>((resolve) => {
      const tick = () => {
        const now = performance.now();
        if (now - start >= opts.durationMs) return resolve();
        while (sent * intervalMs <= now - start) {
          const packet = publishBatch(template, 1, (sent % 65535) + 1);
          packet.writeDoubleBE(performance.now(), stampAt);
          void publisher.write(packet);
          sent++;
        }
        setTimeout(tick, Math.max(0, Math.min(intervalMs, 5)));
      };
      tick();
    });
    // Wait for the last deliveries (lost ones never come: stop after a stall).
    let last = latencies.length;
    let lastChange = performance.now();
    while (latencies.length < sent) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      if (latencies.length !== last) [last, lastChange] = [latencies.length, performance.now()];
      else if (performance.now() - lastChange > (opts.stallMs ?? 5_000)) break;
    }
    return { sent, received: latencies.length, latencies, timedOut: latencies.length < sent };
  } finally {
    await Promise.all([publisher.disconnect(), subscriber.disconnect()]);
  }
}
