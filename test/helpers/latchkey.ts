import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { type CliResult, runCli, tempDir } from './cli.js';
import { clientCredentialsToken } from './token.js';
import { startLatchkey, type RunningLatchkey } from '../../src/app.js';
import { loadConfig, type RawOptions } from '../../src/config/load_config.js';
import { createLogger } from '../../src/log/logger.js';
import type { AuditEvent, AuditQuery } from '../../src/store/audit.js';

export { CLI, type CliResult, runCli, spawnTimeout, tempDir } from './cli.js';

export interface TestServer {
  server: RunningLatchkey;
  dataDir: string;
  certsDir: string;
  baseUrl: string;
  httpsUrl: string;
  mqttUrl: string;
  mqttsUrl: string;
  /** Registers a client in-process; returns its secret. */
  createClient(id: string, scope: string, opts?: { tokenTtl?: number }): string;
  /** client_credentials at the token endpoint with client_secret_basic. */
  token(id: string, secret: string, scope?: string): Promise<{ access_token: string; expires_in: number; scope: string }>;
  /** Audit events, newest first, after writing what the server has buffered. */
  auditEvents(query: AuditQuery): AuditEvent[];
  /** Runs the CLI against this server's data and certs directories. */
  cli(...args: string[]): Promise<CliResult>;
  close(): Promise<void>;
}


/**
 * Starts a real latchkey on 127.0.0.1 with every port 0 in a temporary
 * data directory. Logs are silent unless LATCHKEY_TEST_LOG is set.
 */
export async function startTestServer(options: RawOptions = {}): Promise<TestServer> {
  const root = tempDir();
  const dataDir = join(root, 'data');
  const certsDir = join(root, 'certs');
  let config: ReturnType<typeof loadConfig>;
  let server: RunningLatchkey;
  try {
    config = loadConfig(
      {
        dataDir,
        certsDir,
        host: '127.0.0.1',
        mqttPort: '0',
        mqttsPort: '0',
        wsPort: '0',
        wssPort: '0',
        httpPort: '0',
        httpsPort: '0',
        issuer: 'http://latchkey.test',
        logLevel: process.env.LATCHKEY_TEST_LOG ?? 'silent',
        ...options,
      },
      {},
    );
    server = await startLatchkey(config, createLogger(config.logLevel, process.stderr));
  } catch (err) {
    // A refused start (a test of bad options, a port taken) leaves nothing behind.
    rmSync(root, { recursive: true, force: true });
    throw err;
  }
  const baseUrl = `http://127.0.0.1:${server.ports.http}`;
  return {
    server,
    dataDir,
    certsDir,
    baseUrl,
    httpsUrl: `https://127.0.0.1:${server.ports.https}`,
    mqttUrl: `mqtt://127.0.0.1:${server.ports.mqtt}`,
    mqttsUrl: `mqtts://127.0.0.1:${server.ports.mqtts}`,
    createClient(id, scope, opts = {}) {
      const created = server.registry.create({ id, scope, ...(opts.tokenTtl ? { tokenTtl: opts.tokenTtl } : {}) }, 'test');
      return created.client_secret!;
    },
    token: (id, secret, scope) => clientCredentialsToken(baseUrl, id, secret, scope),
    auditEvents(query) {
      server.audit.flush();
      return server.store.audit.query(query);
    },
    cli: (...args) => runCli(['--data-dir', dataDir, '--certs-dir', certsDir, ...args]),
    async close() {
      await server.close();
      rmSync(root, { recursive: true, force: true });
    },
  };
}
