/**
 * Entry point of every server-under-test process:
 *   node child_main.js <kind> '<json options>'
 * The parent (harness/server_process.ts) starts it pinned to the server core
 * and talks to it over the IPC channel: a `ready` message with the ports,
 * then request/reply operations, `stop` last.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { startTlsAedes, type AedesTlsOptions } from '../references/aedes_tls.js';
import { startPlainAedes } from '../references/aedes_plain.js';
import { startSignRoute } from '../references/sign_route.js';
import type { BenchServer } from './bench_server.js';

type Starter = (options: never) => Promise<BenchServer>;

const KINDS: Record<string, Starter> = {
  aedes: startPlainAedes,
  'aedes-tls': (o: AedesTlsOptions) => startTlsAedes(o),
  'sign-route': startSignRoute,
  // Imported lazily so the references run even while latchkey itself does not build.
  latchkey: async (o: never) => (await import('./latchkey_server.js')).startLatchkeyServer(o),
};

interface Request {
  id: number;
  op: string;
  args?: unknown;
}

async function main(): Promise<void> {
  const [kind, optionsJson] = process.argv.slice(2);
  const start = kind ? KINDS[kind] : undefined;
  if (!start || !process.send) throw new Error(`usage: child_main.js <${Object.keys(KINDS).join('|')}> <json> (with an IPC channel)`);
  const server = await start(JSON.parse(optionsJson ?? '{}') as never);
  const gc = (globalThis as { gc?: () => void }).gc;
  let profiler: Session | null = null;
  const ops: Record<string, (args: unknown) => unknown> = {
    // Two passes: the first may only queue finalisers.
    gc: () => (gc?.(), gc?.(), Boolean(gc)),
    // Where memory sits: the JS heap, or outside it (buffers, sockets' native state).
    memory: () => process.memoryUsage(),
    // CPU profile of a timed part only (not start-up or provisioning), for `--profile`.
    profileStart: async () => {
      profiler = new Session();
      profiler.connect();
      await profiler.post('Profiler.enable');
      await profiler.post('Profiler.start');
      return true;
    },
    profileStop: async (args) => {
      if (!profiler) throw new Error('no profile running');
      const { profile } = await profiler.post('Profiler.stop');
      profiler.disconnect();
      profiler = null;
      writeFileSync((args as { file: string }).file, JSON.stringify(profile));
      return true;
    },
    ...server.ops,
  };
  // The parent died: nothing will ever stop this process otherwise.
  process.on('disconnect', () => process.exit(0));
  process.on('message', (msg: Request) => {
    if (msg.op === 'stop') {
      void server.close().finally(() => process.exit(0));
      return;
    }
    void (async () => {
      try {
        const op = ops[msg.op];
        if (!op) throw new Error(`unknown op ${msg.op}`);
        process.send!({ type: 'reply', id: msg.id, ok: true, result: await op(msg.args) });
      } catch (err) {
        process.send!({ type: 'reply', id: msg.id, ok: false, error: err instanceof Error ? err.message : String(err) });
      }
    })();
  });
  process.send({ type: 'ready', ports: server.ports });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
