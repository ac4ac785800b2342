import { interleave, launch, type Scenario, size, withCpu } from '../harness/context.js';
import { RepCollector } from '../harness/collector.js';
import { compareRow } from '../harness/results.js';
import type { ServerHandle } from '../harness/server_process.js';
import { httpLoad } from '../loadgen/http_load.js';
import { createClients, fetchTokens, startLatchkey, tokenRequest } from './fixtures.js';

/** Keep-alive connections, one request in flight on each. */
const CONNECTIONS = 50;

/**
 * Token endpoint throughput: `POST /oauth/token` (client_credentials,
 * client_secret_basic; client lookup, secret check, signing and audit) at
 * 50 concurrent keep-alive connections, against a fastify route that only
 * signs an ES256 JWT. Each connection is its own client.
 */
export const tokenScenario: Scenario = {
  name: 'token',
  title: 'Token endpoint, 50 keep-alive connections',
  async run(ctx) {
    // Upper bound; a run also stops at ctx.runMs.
    const perConnection = size(ctx, 400, 100);
    const lk = await startLatchkey(ctx, 'token');
    let sign: ServerHandle | null = null;
    try {
      sign = await launch(ctx, 'sign-route', 'sign-route', {});
      const ids = Array.from({ length: CONNECTIONS }, (_, i) => `tok-${i}`);
      const creds = await createClients(lk.server, ids, 'mqtt:publish:bench/{client_id}/#');
      const servers = { latchkey: lk.server, 'sign-route': sign };
      const connectionsFor = (server: ServerHandle) => creds.map((c) => [tokenRequest(server.ports.http!, c)]);
      // Warm-up, untimed.
      await fetchTokens(lk.server, creds, 10);
      await httpLoad({ host: '127.0.0.1', port: sign.ports.http!, connections: connectionsFor(sign), perConnection: 10, timeLimitMs: 30_000 });

      const c = new RepCollector();
      await interleave(ctx.reps, ['sign-route', 'latchkey'] as const, async (rep, name) => {
        const server = servers[name];
        await server.request('gc');
        const { result, cpuMs } = await withCpu(server, () =>
          httpLoad({ host: '127.0.0.1', port: server.ports.http!, connections: connectionsFor(server), perConnection, timeLimitMs: ctx.runMs }),
          'token',
        );
        const ok = result.statuses['200'] ?? 0;
        const value = (ok * 1000) / result.durationMs;
        const cpu = (cpuMs * 1000) / Math.max(1, ok);
        ctx.log(`  token ${name} rep ${rep + 1}: ${value.toFixed(0)} tokens/s, cpu ${cpu.toFixed(0)} µs/token`);
        const bad = Object.entries(result.statuses).filter(([s]) => s !== '200');
        c.add(name, { value, cpuUsPerOp: cpu, latencies: result.latencies, ...(bad.length ? { note: `non-200: ${JSON.stringify(Object.fromEntries(bad))}` } : {}) });
      });
      const unit = 'tokens/s';
      const l = c.get('latchkey', unit);
      const r = c.get('sign-route', unit);
      return [
        compareRow({
          id: 'token.endpoint',
          scenario: 'token',
          title: 'Tokens/s (client lookup, secret check, audit) vs a bare signing route',
          latchkey: l,
          reference: r && { name: 'sign-route', m: r },
          target: { kind: 'min', ratio: 0.6 },
          notes: [`${CONNECTIONS} keep-alive connections, one request in flight on each, ${ctx.runMs / 1000} s per rep`],
          invalid: Boolean(l?.note ?? r?.note),
        }),
      ];
    } finally {
      await Promise.all([lk.server.stop(), sign?.stop()]);
    }
  },
};
