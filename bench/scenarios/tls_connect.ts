import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { interleave, launch, type Scenario, size, withCpu } from '../harness/context.js';
import { RepCollector } from '../harness/collector.js';
import { compareRow, type Row } from '../harness/results.js';
import type { ServerHandle } from '../harness/server_process.js';
import { connectStorm } from '../loadgen/connect_storm.js';
import { connectPacket } from '../loadgen/encode.js';
import type { Target } from '../loadgen/mqtt_client.js';
import { rate, refusedNote, tokensPerWorker, warm } from './connect.js';
import { createClients, fetchTokens, mqttTarget, startLatchkey } from './fixtures.js';

const WORKERS = 50;

/**
 * Connects over TLS: latchkey's MQTTS port with a new JWT on every connect
 * against plain Aedes behind a TLS listener that presents the same server
 * certificate. No TLS session resumption on either side: every connect is a
 * full handshake.
 */
export const tlsScenario: Scenario = {
  name: 'tls',
  title: 'Connect storm, JWT over TLS',
  async run(ctx) {
    // Upper bound; a run also stops at ctx.runMs.
    const perWorker = size(ctx, 200, 40);
    let plainRate = 0;
    const lk = await startLatchkey(ctx, 'tls');
    let aedes: ServerHandle | null = null;
    try {
      aedes = await launch(ctx, 'aedes-tls', 'aedes-tls', { certsDir: lk.certsDir, mode: 'tls' });
      const tls = { ca: readFileSync(join(lk.certsDir, 'ca.crt')) };
      const ids = Array.from({ length: WORKERS }, (_, i) => `tls-${i}`);
      const creds = await createClients(lk.server, ids, 'mqtt:publish:bench/{client_id}/#');
      const warmPackets = (await fetchTokens(lk.server, creds, 1)).map((t, w) => [connectPacket({ clientId: ids[w]!, username: ids[w]!, password: t[0]! })]);
      const lkTarget = mqttTarget(lk.server, 'mqtts', tls);
      const aedesTarget = mqttTarget(aedes, 'mqtts', tls);
      await warm(lkTarget, warmPackets);
      await warm(aedesTarget, warmPackets);

      const c = new RepCollector();
      await interleave(ctx.reps, ['aedes-tls', 'latchkey'] as const, async (rep, name) => {
        let server: ServerHandle;
        let target: Target;
        let workers: Buffer[][];
        if (name === 'latchkey') {
          const fresh = await fetchTokens(lk.server, creds, tokensPerWorker(plainRate, ctx.runMs, perWorker));
          workers = ids.map((id, w) => fresh[w]!.map((t) => connectPacket({ clientId: id, username: id, password: t })));
          [server, target] = [lk.server, lkTarget];
        } else {
          [server, target, workers] = [aedes!, aedesTarget, warmPackets];
        }
        await server.request('gc');
        const { result, cpuMs } = await withCpu(server, () => connectStorm({ target, workers, perWorker, timeLimitMs: ctx.runMs }), 'tls');
        if (name === 'aedes-tls') plainRate = rate(result);
        const cpu = (cpuMs * 1000) / Math.max(1, result.accepted);
        ctx.log(`  tls ${name} rep ${rep + 1}: ${rate(result).toFixed(0)}/s, cpu ${cpu.toFixed(0)} µs/connect`);
        c.add(name, { value: rate(result), cpuUsPerOp: cpu, latencies: result.latencies, ...refusedNote(result) });
      });
      const unit = 'connects/s';
      const l = c.get('latchkey', unit);
      const r = c.get('aedes-tls', unit);
      const row: Row = compareRow({
        id: 'tls.jwt-new',
        scenario: 'tls',
        title: 'JWT connects/s over TLS (every token new) vs plain TLS Aedes',
        latchkey: l,
        reference: r && { name: 'aedes-tls', m: r },
        target: { kind: 'min', ratio: 0.75 },
        notes: [`${WORKERS} concurrent, ${ctx.runMs / 1000} s per rep, a full handshake each (ECDSA P-256 server certificate, no session resumption)`],
        invalid: Boolean(l?.note ?? r?.note),
      });
      return [row];
    } finally {
      await Promise.all([lk.server.stop(), aedes?.stop()]);
    }
  },
};
