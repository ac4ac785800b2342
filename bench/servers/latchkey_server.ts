import { startLatchkey } from '../../src/app.js';
import { loadConfig } from '../../src/config/load_config.js';
import { createLogger } from '../../src/log/logger.js';
import { loadCa } from '../../src/pki/ca.js';
import { CertificateRegistry } from '../../src/registry/certificates.js';
import type { BenchServer } from './bench_server.js';

export interface LatchkeyServerOptions {
  dataDir: string;
  certsDir: string;
  /** pino level; the bench runs at `info` like an operator would. */
  logLevel?: string;
  /** `--store`: a PostgreSQL URL shared by cluster nodes (default SQLite in dataDir). */
  store?: string;
  /** `--cluster`: the Redis URL cluster nodes route MQTT and keep MQTT state through. */
  cluster?: string;
}

export interface CreateClientsArgs {
  ids: string[];
  scope: string;
  /** Seconds. */
  tokenTtl?: number;
}

/**
 * latchkey as `latchkey start` composes it (src/app.ts), every listener on
 * 127.0.0.1 with port 0, plus the provisioning the bench needs before a timed
 * part: clients through the registry (as `client create` does) and device
 * certificates from the latchkey CA. Logs go to the process's stdout, which
 * the harness sends to a file.
 *
 * @example await startLatchkeyServer({ dataDir: '/tmp/d', certsDir: '/tmp/c' });
 */
export async function startLatchkeyServer(opts: LatchkeyServerOptions): Promise<BenchServer> {
  const config = loadConfig(
    {
      dataDir: opts.dataDir,
      certsDir: opts.certsDir,
      host: '127.0.0.1',
      mqttPort: '0',
      mqttsPort: '0',
      wsPort: '0',
      wssPort: '0',
      httpPort: '0',
      httpsPort: '0',
      issuer: 'http://localhost:bench',
      logLevel: opts.logLevel ?? 'info',
    },
    // The documented environment variables, so the same child starts whatever the build names these options.
    { ...(opts.store ? { LATCHKEY_STORE: opts.store } : {}), ...(opts.cluster ? { LATCHKEY_CLUSTER: opts.cluster } : {}) },
  );
  // A build without these options would silently start a lone SQLite node and measure the wrong thing.
  const resolved = config as unknown as Record<string, unknown>;
  if (opts.store && !resolved.store) throw new Error('this build has no --store option (LATCHKEY_STORE ignored)');
  if (opts.cluster && !resolved.cluster) throw new Error('this build has no --cluster option (LATCHKEY_CLUSTER ignored)');
  // The logger `latchkey start` uses: JSON lines written asynchronously to stdout (here a file).
  const server = await startLatchkey(config, createLogger(config.logLevel));
  // What `cert issue` does, over the server's own store (CA loaded from the certs directory), when first asked.
  let certificates: CertificateRegistry | null = null;
  return {
    ports: { ...server.ports },
    ops: {
      createClients: (raw) => {
        const args = raw as CreateClientsArgs;
        const secrets: Record<string, string> = {};
        for (const id of args.ids) {
          const created = server.registry.create({ id, scope: args.scope, ...(args.tokenTtl ? { tokenTtl: args.tokenTtl } : {}) }, 'bench');
          secrets[id] = created.client_secret!;
        }
        return secrets;
      },
      issueCerts: async (raw) => {
        const { ids } = raw as { ids: string[] };
        certificates ??= new CertificateRegistry(server.store, server.audit, await loadCa(opts.certsDir));
        const out: { id: string; certPem: string; keyPem: string }[] = [];
        for (const id of ids) {
          const issued = await certificates.issue(id, { days: 1 }, 'bench');
          out.push({ id, certPem: issued.certPem, keyPem: issued.keyPem! });
        }
        return out;
      },
      sessionCount: () => server.broker.sessions().length,
    },
    close: () => server.close(),
  };
}
