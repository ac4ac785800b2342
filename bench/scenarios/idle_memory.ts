import { type BenchContext, launch, type Scenario, size } from '../harness/context.js';
import { openFileLimit } from '../harness/proc.js';
import { compareRow, type Measurement } from '../harness/results.js';
import type { ServerHandle } from '../harness/server_process.js';
import { connectPacket } from '../loadgen/encode.js';
import { RawMqttClient, type Target } from '../loadgen/mqtt_client.js';
import { createClients, fetchTokens, mqttTarget, startLatchkey } from './fixtures.js';

/** Sockets being opened at once while the sessions pile up. */
const CONCURRENCY = 100;

/**
 * Memory per idle authenticated session: the server's VmRSS growth (after a
 * forced GC on both readings) with N sessions held open, divided by N.
 * latchkey's sessions each carry their own client's JWT; plain Aedes takes
 * the same CONNECT packets. One repetition per server: RSS does not return
 * to its baseline after the sessions leave, so a second pass would measure
 * reuse, not cost.
 */
export const memoryScenario: Scenario = {
  name: 'memory',
  title: 'Idle authenticated sessions, memory per session',
  async run(ctx) {
    let sessions = size(ctx, 10_000, 1_000);
    const notes: string[] = [];
    // Each side of a connection is one descriptor in its own process: the generator holds N.
    const limit = openFileLimit(process.pid);
    if (limit < sessions + 200) {
      notes.push(`open-file limit ${limit}: ${limit - 200} sessions instead of ${sessions}`);
      sessions = limit - 200;
    }
    // Provisioning 10,000 clients is 10,000 fsync'd commits: kept off the disk, it is not what is measured.
    const lk = await startLatchkey(ctx, 'memory', { memoryDisk: true });
    const aedes = await launch(ctx, 'aedes', 'aedes', {});
    let fresh: ServerHandle | null = null;
    try {
      if (openFileLimit(lk.server.pid) < sessions + 200) notes.push(`server open-file limit ${openFileLimit(lk.server.pid)}`);
      const ids = Array.from({ length: sessions }, (_, i) => `idle-${i}`);
      ctx.log(`  registering ${sessions} clients and fetching their tokens`);
      const creds = await createClients(lk.server, ids, 'mqtt:subscribe:idle/{client_id}/#');
      const tokens = await fetchTokens(lk.server, creds, 1);
      const packets = ids.map((id, i) => connectPacket({ clientId: id, username: id, password: tokens[i]![0]! }));
      // Provisioning grew latchkey's heap; a restarted process on the same data starts as fresh as Aedes.
      await lk.server.stop();
      fresh = await launch(ctx, 'latchkey', 'latchkey', { dataDir: lk.dataDir, certsDir: lk.certsDir });

      const results: Record<string, Measurement & { heapPerSession: number }> = {};
      for (const server of [aedes, fresh]) {
        const m = await measureIdleSessions(ctx, server, mqttTarget(server, 'mqtt'), packets, { countSessions: server === fresh });
        results[server.name] = m;
      }
      const l = results.latchkey ?? null;
      const r = results.aedes ?? null;
      return [
        compareRow({
          id: 'memory.idle-session',
          scenario: 'memory',
          title: `Memory per idle session, ${sessions.toLocaleString('en-US')} sessions, vs plain Aedes`,
          latchkey: l,
          reference: r && { name: 'aedes', m: r },
          target: { kind: 'max', ratio: 1.2 },
          notes: [
            ...notes,
            'VmRSS growth after GC ÷ sessions, each server a fresh process (latchkey restarted after provisioning its clients); one repetition',
            ...(l?.heapPerSession && r?.heapPerSession ? [`JS heap per session ${(l.heapPerSession / r.heapPerSession).toFixed(2)}× plain`] : []),
            ...(l?.detail ? [`latchkey ${l.detail}`] : []),
            ...(r?.detail ? [`aedes ${r.detail}`] : []),
          ],
          invalid: Boolean(l?.note ?? r?.note),
        }),
      ];
    } finally {
      await Promise.all([lk.server.stop(), aedes.stop(), fresh?.stop()]);
    }
  },
};

/** What {@link measureIdleSessions} found, with the JS heap's share of it. */
export type SessionMemory = Measurement & { heapPerSession: number };

/**
 * Opens one session per CONNECT packet (100 at a time) against `target`,
 * each subscribing to `filters[i]` at QoS 1 when filters are given, and
 * returns the growth of `server`'s VmRSS (after GC on both readings) per
 * open session. `countSessions` asks the server (a latchkey) how many
 * sessions it holds, so a session it dropped cannot pass unnoticed.
 * `whileOpen` runs after the readings, before the sessions close.
 *
 * @example const m = await measureIdleSessions(ctx, lk, mqttTarget(lk, 'mqtt'), packets, { countSessions: true });
 */
export async function measureIdleSessions(
  ctx: BenchContext,
  server: ServerHandle,
  target: Target,
  packets: Buffer[],
  opts: { countSessions: boolean; filters?: string[]; whileOpen?: () => Promise<void> },
): Promise<SessionMemory> {
  await server.request('gc');
  await settle();
  const before = server.rssKb();
  const heapBefore = await server.request<NodeJS.MemoryUsage>('memory');
  const clients: RawMqttClient[] = [];
  let refused = 0;
  let subscribeRefused = 0;
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < packets.length) {
        const i = next++;
        const { client, returnCode } = await RawMqttClient.connect(target, packets[i]!);
        if (returnCode === 0) {
          clients.push(client);
          const filter = opts.filters?.[i];
          if (filter !== undefined && (await client.subscribe(filter, 1)) !== 1) subscribeRefused++;
        } else {
          refused++;
          client.destroy();
        }
      }
    }),
  );
  await settle();
  await server.request('gc');
  await settle();
  const after = server.rssKb();
  const heapAfter = await server.request<NodeJS.MemoryUsage>('memory');
  const open = clients.filter((c) => c.closedAt === null).length;
  const sessionsSeen = opts.countSessions ? await server.request<number>('sessionCount') : open;
  const perSession = ((after - before) * 1024) / Math.max(1, open);
  const heapPerSession = (heapAfter.heapUsed - heapBefore.heapUsed) / Math.max(1, open);
  const externalPerSession = (heapAfter.external - heapBefore.external) / Math.max(1, open);
  ctx.log(`  ${server.name}: ${open} sessions open (${sessionsSeen} seen by the server), RSS ${before} → ${after} kB, ${perSession.toFixed(0)} B/session (JS heap ${heapPerSession.toFixed(0)} B, external ${externalPerSession.toFixed(0)} B)`);
  await opts.whileOpen?.();
  for (const c of clients) c.destroy();
  await Promise.all(clients.map((c) => c.closed));
  const problems = [
    refused ? `${refused} refused` : '',
    subscribeRefused ? `${subscribeRefused} subscriptions refused` : '',
    open !== packets.length ? `${packets.length - open} not open at measurement` : '',
    sessionsSeen !== open ? `server counted ${sessionsSeen} sessions` : '',
  ].filter(Boolean);
  return {
    value: perSession / 1024,
    unit: 'KiB/session',
    reps: [perSession / 1024],
    heapPerSession,
    // Not a problem, context: where the bytes went.
    detail: `JS heap ${(heapPerSession / 1024).toFixed(1)} KiB/session, external ${(externalPerSession / 1024).toFixed(1)} KiB/session`,
    ...(problems.length ? { note: problems.join(', ') } : {}),
  };
}

export function settle(ms = 1_000): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
