import { performance } from 'node:perf_hooks';
import { RawMqttClient, type Target } from './mqtt_client.js';

export interface StormOptions {
  target: Target;
  /**
   * One list of CONNECT packets per concurrent worker. Worker w uses its own
   * packets in order, one per connect, cycling when it runs out: give it as
   * many as it makes connects for "every token new", or one for "the same
   * token again". A worker's connects are sequential, so its client id is
   * never in use twice at once.
   */
  workers: Buffer[][];
  /** Connects per worker. */
  perWorker: number;
  /** Hard stop, ms; connects not started by then are not made. */
  timeLimitMs: number;
}

export interface StormResult {
  attempts: number;
  accepted: number;
  /** CONNACK return codes other than 0, and -1 for a socket closed before CONNACK. */
  refused: Record<string, number>;
  durationMs: number;
  /** Socket open to CONNACK, ms, accepted connects only. */
  latencies: number[];
}

/**
 * The connect storm: every worker connects, waits for CONNACK, disconnects,
 * waits for the broker to close the socket, and connects again. The rate is
 * accepted connects over the wall time of the whole storm.
 *
 * @example const r = await connectStorm({ target, workers, perWorker: 100, timeLimitMs: 30_000 });
 */
export async function connectStorm(opts: StormOptions): Promise<StormResult> {
  const result: StormResult = { attempts: 0, accepted: 0, refused: {}, durationMs: 0, latencies: [] };
  const start = performance.now();
  const deadline = start + opts.timeLimitMs;
  await Promise.all(
    opts.workers.map(async (packets) => {
      for (let i = 0; i < opts.perWorker && performance.now() < deadline; i++) {
        result.attempts++;
        const { client, returnCode, latencyMs } = await RawMqttClient.connect(opts.target, packets[i % packets.length]!);
        if (returnCode === 0) {
          result.accepted++;
          result.latencies.push(latencyMs);
          await client.disconnect();
        } else {
          result.refused[returnCode] = (result.refused[returnCode] ?? 0) + 1;
          client.destroy();
          await client.closed;
        }
      }
    }),
  );
  result.durationMs = performance.now() - start;
  return result;
}
