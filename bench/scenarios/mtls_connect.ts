import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { interleave, launch, type Scenario, size, withCpu } from '../harness/context.js';
import { RepCollector } from '../harness/collector.js';
import { compareRow } from '../harness/results.js';
import type { ServerHandle } from '../harness/server_process.js';
import { connectStorm } from '../loadgen/connect_storm.js';
import { connectPacket } from '../loadgen/encode.js';
import type { Target } from '../loadgen/mqtt_client.js';
import { rate, refusedNote } from './connect.js';
import { createClients, startLatchkey } from './fixtures.js';

const WORKERS = 50;

/**
 * Device-certificate connects over mutual TLS: latchkey's MQTTS port against
 * Aedes with latchkey's exact listener settings (same CA, server certificate,
 * requestCert, rejectUnauthorized false and a check that the peer verified).
 * Each worker is one device with its own certificate and no password.
 */
export const mtlsScenario: Scenario = {
  name: 'mtls',
  title: 'Connect storm, device certificates over mTLS',
  async run(ctx) {
    // Upper bound; a run also stops at ctx.runMs.
    const perWorker = size(ctx, 200, 40);
    const lk = await startLatchkey(ctx, 'mtls');
    let aedes: ServerHandle | null = null;
    try {
      aedes = await launch(ctx, 'aedes-mtls', 'aedes-tls', { certsDir: lk.certsDir, mode: 'mtls' });
      const ca = readFileSync(join(lk.certsDir, 'ca.crt'));
      const ids = Array.from({ length: WORKERS }, (_, i) => `dev-${i}`);
      await createClients(lk.server, ids, 'mqtt:publish:bench/{client_id}/#');
      const certs = await lk.server.request<{ id: string; certPem: string; keyPem: string }[]>('issueCerts', { ids });
      const tlsFor = (w: number) => ({ ca, cert: certs[w]!.certPem, key: certs[w]!.keyPem });
      const packets = ids.map((id) => [connectPacket({ clientId: id })]);
      // A worker per device: its own certificate on every connect.
      const stormFor = (server: ServerHandle) =>
        Promise.all(
          ids.map((_, w) =>
            connectStorm({ target: mqttTarget(server, w, tlsFor(w)), workers: [packets[w]!], perWorker, timeLimitMs: ctx.runMs }),
          ),
        );
      for (const server of [lk.server, aedes]) {
        const warmRuns = await Promise.all(ids.map((_, w) => connectStorm({ target: mqttTarget(server, w, tlsFor(w)), workers: [packets[w]!], perWorker: 2, timeLimitMs: 30_000 })));
        const refused = warmRuns.flatMap((r) => Object.entries(r.refused));
        if (refused.length) throw new Error(`${server.name} refused certificate connects: ${JSON.stringify(refused)}`);
      }

      const c = new RepCollector();
      await interleave(ctx.reps, ['aedes-mtls', 'latchkey'] as const, async (rep, name) => {
        const server = name === 'latchkey' ? lk.server : aedes!;
        await server.request('gc');
        const start = performance.now();
        const { result: runs, cpuMs } = await withCpu(server, () => stormFor(server), 'mtls');
        const wall = performance.now() - start;
        const merged = {
          attempts: runs.reduce((a, r) => a + r.attempts, 0),
          accepted: runs.reduce((a, r) => a + r.accepted, 0),
          refused: Object.assign({}, ...runs.map((r) => r.refused)) as Record<string, number>,
          durationMs: wall,
          latencies: runs.flatMap((r) => r.latencies),
        };
        const cpu = (cpuMs * 1000) / Math.max(1, merged.accepted);
        ctx.log(`  mtls ${name} rep ${rep + 1}: ${rate(merged).toFixed(0)}/s, cpu ${cpu.toFixed(0)} µs/connect`);
        c.add(name, { value: rate(merged), cpuUsPerOp: cpu, latencies: merged.latencies, ...refusedNote(merged) });
      });
      const unit = 'connects/s';
      const l = c.get('latchkey', unit);
      const r = c.get('aedes-mtls', unit);
      return [
        compareRow({
          id: 'mtls.certificate',
          scenario: 'mtls',
          title: 'Certificate connects/s over mTLS vs Aedes with the same mTLS settings',
          latchkey: l,
          reference: r && { name: 'aedes-mtls', m: r },
          target: { kind: 'min', ratio: 0.9 },
          notes: [`${WORKERS} devices concurrent, ${ctx.runMs / 1000} s per rep, a full handshake each`],
          invalid: Boolean(l?.note ?? r?.note),
        }),
      ];
    } finally {
      await Promise.all([lk.server.stop(), aedes?.stop()]);
    }
  },
};

function mqttTarget(server: ServerHandle, _worker: number, tls: NonNullable<Target['tls']>): Target {
  return { host: '127.0.0.1', port: server.ports.mqtts!, tls };
}
