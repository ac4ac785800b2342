import { type BenchContext, interleave, launch, type Scenario, size, withCpu } from '../harness/context.js';
import { RepCollector } from '../harness/collector.js';
import { compareRow, type Row } from '../harness/results.js';
import type { ServerHandle } from '../harness/server_process.js';
import { connectPacket } from '../loadgen/encode.js';
import { pubSub } from '../loadgen/pubsub.js';
import { startMosquitto } from '../references/mosquitto.js';
import { createClients, type Credential, fetchTokens, mqttTarget, startLatchkey } from './fixtures.js';

interface Shape {
  name: string;
  publishers: number;
  subscribers: number;
  qos: 0 | 1;
  /** Messages per publisher in a full run. */
  messages: number;
}

const SHAPES: Shape[] = [
  { name: 'QoS 0, 1→1', publishers: 1, subscribers: 1, qos: 0, messages: 40_000 },
  { name: 'QoS 0, 10→1', publishers: 10, subscribers: 1, qos: 0, messages: 4_000 },
  { name: 'QoS 0, 1→50', publishers: 1, subscribers: 50, qos: 0, messages: 1_000 },
  { name: 'QoS 1, 1→1', publishers: 1, subscribers: 1, qos: 1, messages: 15_000 },
  { name: 'QoS 1, 10→1', publishers: 10, subscribers: 1, qos: 1, messages: 1_500 },
  { name: 'QoS 1, 1→50', publishers: 1, subscribers: 50, qos: 1, messages: 400 },
];

const PAYLOAD_BYTES = 64;
const TOPIC = 'bench/load/1';
/** A wildcard filter on both sides, so topic matching costs the same everywhere. */
const FILTER = 'bench/load/+';

/**
 * Publish throughput with zero loss: latchkey authorizing every publish and
 * subscription by scope (publishers hold `mqtt:publish:bench/#`, subscribers
 * `mqtt:subscribe:bench/#`) against plain Aedes (and Mosquitto with a
 * password file, when installed) for each shape. Deliveries per second.
 */
export const publishScenario: Scenario = {
  name: 'publish',
  title: 'Publish throughput with authorization',
  async run(ctx) {
    const lk = await startLatchkey(ctx, 'publish');
    const aedes = await launch(ctx, 'aedes', 'aedes', {});
    let mosquitto: ServerHandle | null = null;
    try {
      const pubIds = Array.from({ length: 10 }, (_, i) => `pub-${i}`);
      const subIds = Array.from({ length: 50 }, (_, i) => `sub-${i}`);
      const pubCreds = await createClients(lk.server, pubIds, 'mqtt:publish:bench/#');
      const subCreds = await createClients(lk.server, subIds, 'mqtt:subscribe:bench/#');
      const creds = [...pubCreds, ...subCreds];
      if (ctx.mosquitto) mosquitto = await startMosquitto(ctx.mosquitto, ctx.workDir, creds);
      const tokens = new Map((await fetchTokens(lk.server, creds, 1)).map((t, i) => [creds[i]!.id, t[0]!]));
      const jwtPacket = (c: Credential) => connectPacket({ clientId: c.id, username: c.id, password: tokens.get(c.id)! });
      const secretPacket = (c: Credential) => connectPacket({ clientId: c.id, username: c.id, password: c.secret });

      const servers = [
        { name: 'aedes', server: aedes, packet: jwtPacket },
        { name: 'latchkey', server: lk.server, packet: jwtPacket },
        ...(mosquitto ? [{ name: 'mosquitto', server: mosquitto, packet: secretPacket }] : []),
      ];
      const rows: Row[] = [];
      for (const shape of SHAPES) {
        const messages = size(ctx, shape.messages, Math.ceil(shape.messages / 10));
        const run = (s: (typeof servers)[number], count: number) =>
          pubSub({
            target: mqttTarget(s.server, 'mqtt'),
            publishers: pubCreds.slice(0, shape.publishers).map(s.packet),
            subscribers: subCreds.slice(0, shape.subscribers).map(s.packet),
            topic: TOPIC,
            filter: FILTER,
            qos: shape.qos,
            messagesPerPublisher: count,
            sendTimeMs: ctx.runMs,
            payloadBytes: PAYLOAD_BYTES,
            window: 100,
            timeLimitMs: 60_000,
          });
        // Warm-up (untimed) so the JIT has seen this path on every server.
        for (const s of servers) await run(s, Math.ceil(messages / 10));
        const c = new RepCollector();
        await interleave(
          ctx.reps,
          servers.map((s) => s.name),
          async (rep, name) => {
            // Mosquitto is context, not judged: one repetition keeps the run short.
            if (name === 'mosquitto' && rep > 0) return;
            const s = servers.find((x) => x.name === name)!;
            await s.server.request('gc').catch(() => undefined);
            const { result, cpuMs } = await withCpu(s.server, () => run(s, messages), `publish-qos${shape.qos}-${shape.publishers}-${shape.subscribers}`);
            const value = (result.delivered * 1000) / result.durationMs;
            const lost = result.expected - result.delivered;
            ctx.log(`  ${shape.name} ${name} rep ${rep + 1}: ${value.toFixed(0)} msg/s, lost ${lost}`);
            c.add(name, {
              value,
              cpuUsPerOp: (cpuMs * 1000) / Math.max(1, result.delivered),
              ...(lost !== 0 || result.timedOut ? { note: `lost ${lost} of ${result.expected}${result.timedOut ? ' (timed out)' : ''}` } : {}),
            });
          },
        );
        rows.push(shapeRow(ctx, shape, c));
      }
      return rows;
    } finally {
      await Promise.all([lk.server.stop(), aedes.stop(), mosquitto?.stop()]);
    }
  },
};

function shapeRow(ctx: BenchContext, shape: Shape, c: RepCollector): Row {
  const unit = 'msg/s';
  const l = c.get('latchkey', unit);
  const r = c.get('aedes', unit);
  return compareRow({
    id: `publish.qos${shape.qos}-${shape.publishers}-${shape.subscribers}`,
    scenario: 'publish',
    title: `Publish ${shape.name}, with authorization, vs plain Aedes (zero loss)`,
    latchkey: l,
    reference: r && { name: 'aedes', m: r },
    others: [{ name: 'mosquitto', m: c.get('mosquitto', unit), ...(ctx.mosquitto ? {} : { note: 'not installed' }) }],
    target: { kind: 'min', ratio: 0.95 },
    notes: [`${PAYLOAD_BYTES}-byte payloads${shape.qos ? ', 100 in flight per publisher' : ''}, sending for up to ${ctx.runMs / 1000} s per rep; CPU per delivery`],
    invalid: Boolean(l?.note ?? r?.note),
  });
}
