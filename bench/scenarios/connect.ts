import { type BenchContext, interleave, launch, type Scenario, size, withCpu } from '../harness/context.js';
import { RepCollector } from '../harness/collector.js';
import { compareRow, type Row } from '../harness/results.js';
import type { ServerHandle } from '../harness/server_process.js';
import { connectStorm, type StormResult } from '../loadgen/connect_storm.js';
import { connectPacket } from '../loadgen/encode.js';
import type { Target } from '../loadgen/mqtt_client.js';
import { startMosquitto } from '../references/mosquitto.js';
import { createClients, type Credential, fetchTokens, mqttTarget, startLatchkey } from './fixtures.js';

/** Concurrent connecting workers: each owns one client id. */
const WORKERS = 50;

/**
 * Connect storm over plain TCP: latchkey with a new JWT on every connect,
 * latchkey reconnecting with a token it has already verified, and plain
 * Aedes (and Mosquitto with a password file, when installed) taking the
 * very same CONNECT packets.
 */
export const connectScenario: Scenario = {
  name: 'connect',
  title: 'Connect storm, MQTT over TCP',
  async run(ctx) {
    // Upper bounds: a run also stops at ctx.runMs.
    const perWorker = size(ctx, 400, 100);
    const lk = await startLatchkey(ctx, 'connect');
    const aedes = await launch(ctx, 'aedes', 'aedes', {});
    let mosquitto: ServerHandle | null = null;
    try {
      const ids = Array.from({ length: WORKERS }, (_, i) => `storm-${i}`);
      const creds = await createClients(lk.server, ids, 'mqtt:publish:bench/{client_id}/#');
      if (ctx.mosquitto) mosquitto = await startMosquitto(ctx.mosquitto, ctx.workDir, creds);
      // One long-lived token per worker for reconnects; the same bytes let plain Aedes parse as much.
      const reused = (await fetchTokens(lk.server, creds, 1)).map((t) => t[0]!);
      const reusedPackets = ids.map((id, w) => [connectPacket({ clientId: id, username: id, password: reused[w]! })]);
      const mosquittoPackets = creds.map((c) => [connectPacket({ clientId: c.id, username: c.id, password: c.secret })]);

      const lkTarget = mqttTarget(lk.server, 'mqtt');
      const aedesTarget = mqttTarget(aedes, 'mqtt');
      // Warm-up (untimed): JIT, pools, and latchkey's first verification of every reused token.
      await warm(lkTarget, reusedPackets);
      await warm(aedesTarget, reusedPackets);
      if (mosquitto) await warm(mqttTarget(mosquitto, 'mqtt'), mosquittoPackets);

      const c = new RepCollector();
      // Plain Aedes runs first: its rate bounds how many fresh tokens latchkey can use in a run.
      const names = ['aedes', 'latchkey-new', 'latchkey-reused', ...(mosquitto ? ['mosquitto'] : [])] as const;
      let plainRate = 0;
      await interleave(ctx.reps, names, async (rep, name) => {
        let server: ServerHandle;
        let target: Target;
        let workers: Buffer[][];
        if (name === 'latchkey-new') {
          const fresh = await fetchTokens(lk.server, creds, tokensPerWorker(plainRate, ctx.runMs, perWorker));
          workers = ids.map((id, w) => fresh[w]!.map((t) => connectPacket({ clientId: id, username: id, password: t })));
          server = lk.server;
          target = lkTarget;
        } else if (name === 'latchkey-reused') {
          [server, target, workers] = [lk.server, lkTarget, reusedPackets];
        } else if (name === 'mosquitto') {
          [server, target, workers] = [mosquitto!, mqttTarget(mosquitto!, 'mqtt'), mosquittoPackets];
        } else {
          [server, target, workers] = [aedes, aedesTarget, reusedPackets];
        }
        await server.request('gc').catch(() => undefined);
        const { result, cpuMs } = await withCpu(server, () => connectStorm({ target, workers, perWorker, timeLimitMs: ctx.runMs }), `connect-${name}`);
        if (name === 'aedes') plainRate = rate(result);
        ctx.log(`  connect ${name} rep ${rep + 1}: ${rate(result).toFixed(0)}/s, cpu ${((cpuMs * 1000) / Math.max(1, result.accepted)).toFixed(0)} µs/connect`);
        c.add(name, { value: rate(result), cpuUsPerOp: (cpuMs * 1000) / Math.max(1, result.accepted), latencies: result.latencies, ...refusedNote(result) });
      });
      return rows(ctx, c);
    } finally {
      await Promise.all([lk.server.stop(), aedes.stop(), mosquitto?.stop()]);
    }
  },
};

function rows(ctx: BenchContext, c: RepCollector): Row[] {
  const unit = 'connects/s';
  const plain = c.get('aedes', unit);
  const fresh = c.get('latchkey-new', unit);
  const reused = c.get('latchkey-reused', unit);
  const others: Row['others'] = [{ name: 'mosquitto', m: c.get('mosquitto', unit), ...(ctx.mosquitto ? {} : { note: 'not installed' }) }];
  const cpuRatio = fresh?.cpuUsPerOp && plain?.cpuUsPerOp ? fresh.cpuUsPerOp / plain.cpuUsPerOp : Number.NaN;
  const notes = [`${WORKERS} concurrent, ${ctx.runMs / 1000} s per rep`];
  return [
    compareRow({
      id: 'connect.jwt-new',
      scenario: 'connect',
      title: 'JWT connects/s, every token new, vs plain Aedes',
      latchkey: fresh,
      reference: plain && { name: 'aedes', m: plain },
      others,
      target: { kind: 'min', ratio: 0.55 },
      notes,
      invalid: Boolean(fresh?.note ?? plain?.note),
      extra: { ok: cpuRatio <= 2, note: `broker CPU per connect ${cpuRatio.toFixed(2)}× plain (target ≤ 2×)` },
    }),
    compareRow({
      id: 'connect.jwt-reused',
      scenario: 'connect',
      title: 'Reconnects with a token already verified vs plain Aedes',
      latchkey: reused,
      reference: plain && { name: 'aedes', m: plain },
      target: { kind: 'min', ratio: 0.9 },
      notes,
      invalid: Boolean(reused?.note ?? plain?.note),
    }),
  ];
}

/** Accepted connects per second of wall time. */
export function rate(r: StormResult): number {
  return (r.accepted * 1000) / r.durationMs;
}

/** A note when any connect was refused: such a run measured something else. */
export function refusedNote(r: StormResult): { note?: string } {
  const refused = Object.entries(r.refused);
  return refused.length ? { note: `refused: ${refused.map(([code, n]) => `${n}× code ${code}`).join(', ')}` } : {};
}

/**
 * Fresh tokens each worker needs for one run: 1.5× what a faster
 * configuration managed in the same time (at least 2, at most `max`). A run
 * that uses them all up just ends early; its rate stays right.
 */
export function tokensPerWorker(fasterRate: number, runMs: number, max: number): number {
  const need = Math.ceil((fasterRate * 1.5 * runMs) / 1000 / WORKERS);
  return Math.min(max, Math.max(2, need || max));
}

/** A short untimed storm (a few connects per worker) that must be accepted. */
export async function warm(target: Target, workers: Buffer[][]): Promise<void> {
  const r = await connectStorm({ target, workers, perWorker: 4, timeLimitMs: 30_000 });
  if (r.accepted !== r.attempts) throw new Error(`warm-up refused: ${JSON.stringify(r.refused)}`);
}

export type { Credential };
