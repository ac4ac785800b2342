import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { startLatchkey, type RunningLatchkey } from '../../src/app.js';
import { loadConfig } from '../../src/config/load_config.js';
import { createLogger } from '../../src/log/logger.js';
import { runCli, tempDir } from '../helpers/cli.js';
import { startChildServer, type ChildServer } from '../helpers/child_server.js';
import { clientCredentialsToken } from '../helpers/token.js';

/**
 * Latchkey nodes of one cluster for the tests: every node shares one Redis
 * (`--cluster`) and, until the store moves to PostgreSQL, one SQLite data
 * directory and certs directory (two processes on one WAL database, as the
 * CLI does), so a client registered once is known to every node.
 */
export interface Cluster {
  dataDir: string;
  certsDir: string;
  redisUrl: string;
  /** Removes the shared directories (after every node has stopped). */
  remove(): void;
}

export function newCluster(redisUrl: string): Cluster {
  const root = tempDir('latchkey-cluster-');
  return {
    dataDir: join(root, 'data'),
    certsDir: join(root, 'certs'),
    redisUrl,
    remove: () => rmSync(root, { recursive: true, force: true }),
  };
}

export interface Node {
  server: RunningLatchkey;
  mqttUrl: string;
  baseUrl: string;
  /** This node's id: Aedes', the live-sessions instance, the metrics label. */
  id: string;
  close(): Promise<void>;
}

/** An in-process node on ephemeral ports of 127.0.0.1. */
export async function startNode(cluster: Cluster): Promise<Node> {
  const config = loadConfig(
    {
      dataDir: cluster.dataDir,
      certsDir: cluster.certsDir,
      host: '127.0.0.1',
      mqttPort: '0',
      mqttsPort: '0',
      wsPort: '0',
      wssPort: '0',
      httpPort: '0',
      httpsPort: '0',
      issuer: 'http://latchkey.test',
      logLevel: process.env.LATCHKEY_TEST_LOG ?? 'silent',
      cluster: cluster.redisUrl,
    },
    {},
  );
  const server = await startLatchkey(config, createLogger(config.logLevel, process.stderr));
  return {
    server,
    mqttUrl: `mqtt://127.0.0.1:${server.ports.mqtt}`,
    baseUrl: `http://127.0.0.1:${server.ports.http}`,
    id: server.broker.published.instance,
    close: () => server.close(),
  };
}

/** A node as a child process (`latchkey start --cluster …`), for a test that kills it with -9. */
export function startChildNode(cluster: Cluster): Promise<ChildServer> {
  return startChildServer(cluster.dataDir, cluster.certsDir, ['--cluster', cluster.redisUrl]);
}

/** `latchkey client create` on the shared data directory; returns the secret. */
export async function createClientByCli(cluster: Cluster, id: string, scope: string): Promise<string> {
  const result = await runCli(['client', 'create', id, '--scope', scope, '--data-dir', cluster.dataDir, '--certs-dir', cluster.certsDir, '--json']);
  if (result.code !== 0) throw new Error(`client create ${id}: ${result.stderr}`);
  return (JSON.parse(result.stdout) as { client_secret: string }).client_secret;
}

/** An access token from a node's token endpoint. */
export async function tokenFrom(baseUrl: string, id: string, secret: string): Promise<string> {
  return (await clientCredentialsToken(baseUrl, id, secret)).access_token;
}
