import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { type BenchContext, launch } from '../harness/context.js';
import type { ServerHandle } from '../harness/server_process.js';
import type { LatchkeyServerOptions } from '../servers/latchkey_server.js';
import { formPost, httpLoad } from '../loadgen/http_load.js';
import type { Target } from '../loadgen/mqtt_client.js';

/** A latchkey under test and the directories it owns. */
export interface LatchkeyUnderTest {
  server: ServerHandle;
  dataDir: string;
  certsDir: string;
  /** What the child was started with: {@link launch} it again with these for a fresh process on the same data. */
  options: LatchkeyServerOptions;
}

/**
 * Starts latchkey in a child process with fresh data and certs directories,
 * on disk unless `memoryDisk` asks for /dev/shm (only where provisioning
 * thousands of clients, each an fsync'd commit, is not what is measured).
 * `store` and `cluster` make it a cluster node (docs/CLUSTER.md).
 *
 * @example const lk = await startLatchkey(ctx, 'connect');
 */
export async function startLatchkey(
  ctx: BenchContext,
  label: string,
  opts: { memoryDisk?: boolean; store?: string; cluster?: string; name?: string } = {},
): Promise<LatchkeyUnderTest> {
  const root = opts.memoryDisk && existsSync('/dev/shm') ? mkdtempSync(join('/dev/shm', `latchkey-bench-${label}-`)) : join(ctx.workDir, `latchkey-${label}`);
  const dataDir = join(root, 'data');
  const certsDir = join(root, 'certs');
  mkdirSync(root, { recursive: true });
  const options: LatchkeyServerOptions = { dataDir, certsDir, ...(opts.store ? { store: opts.store } : {}), ...(opts.cluster ? { cluster: opts.cluster } : {}) };
  if (root.startsWith('/dev/shm/')) ctx.cleanup(() => rmSync(root, { recursive: true, force: true }));
  const server = await launch(ctx, opts.name ?? 'latchkey', 'latchkey', options);
  return { server, dataDir, certsDir, options };
}

/** A registered client and its secret. */
export interface Credential {
  id: string;
  secret: string;
}

/**
 * Registers clients through latchkey's registry, the path `client create`
 * takes, in batches so one IPC message stays small.
 *
 * @example const creds = await createClients(lk.server, ['dev-1'], 'mqtt:publish:bench/#');
 */
export async function createClients(server: ServerHandle, ids: string[], scope: string, tokenTtl?: number): Promise<Credential[]> {
  const out: Credential[] = [];
  for (let i = 0; i < ids.length; i += 500) {
    const batch = ids.slice(i, i + 500);
    const secrets = await server.request<Record<string, string>>('createClients', { ids: batch, scope, ...(tokenTtl ? { tokenTtl } : {}) });
    for (const id of batch) out.push({ id, secret: secrets[id]! });
  }
  return out;
}

/** RFC 6749 §2.3.1 client_secret_basic: both parts form-urlencoded, then base64. */
export function basicAuth(c: Credential): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(c.id)}:${encodeURIComponent(c.secret)}`).toString('base64')}`;
}

/** The token request the bench sends: client_credentials with client_secret_basic. */
export function tokenRequest(port: number, c: Credential): Buffer {
  return formPost(port, '/oauth/token', 'grant_type=client_credentials', { authorization: basicAuth(c) });
}

/**
 * Real access tokens from latchkey's token endpoint, fetched before a timed
 * part: `perClient` for each credential, over up to 50 keep-alive connections.
 * Throws unless every request succeeded.
 *
 * @example const [[t1, t2]] = await fetchTokens(lk.server, [cred], 2);
 */
export async function fetchTokens(server: ServerHandle, creds: Credential[], perClient: number): Promise<string[][]> {
  const port = server.ports.http!;
  const tokens: string[][] = creds.map(() => []);
  const lanes = Math.min(50, creds.length);
  // Lane k serves credentials k, k + lanes, ...: each request repeated perClient times in a row.
  const laneCreds: number[][] = Array.from({ length: lanes }, () => []);
  creds.forEach((_, i) => laneCreds[i % lanes]!.push(i));
  const connections = laneCreds.map((idx) => idx.flatMap((i) => Array<Buffer>(perClient).fill(tokenRequest(port, creds[i]!))));
  let failed = 0;
  let firstError = '';
  await httpLoad({
    host: '127.0.0.1',
    port,
    connections,
    timeLimitMs: 300_000,
    onBody: (status, body, lane, request) => {
      if (status !== 200) {
        failed++;
        firstError ||= `${status} ${body.toString()}`;
        return;
      }
      const owner = laneCreds[lane]![Math.floor(request / perClient)]!;
      tokens[owner]!.push((JSON.parse(body.toString()) as { access_token: string }).access_token);
    },
  });
  if (failed > 0) throw new Error(`${failed} token requests failed, first: ${firstError}`);
  return tokens;
}

/** The MQTT target of a server: plain or TLS port on loopback. */
export function mqttTarget(server: ServerHandle, port: 'mqtt' | 'mqtts', tls?: Target['tls']): Target {
  const p = server.ports[port];
  if (p === undefined) throw new Error(`${server.name} has no ${port} port`);
  return { host: '127.0.0.1', port: p, ...(tls ? { tls } : {}) };
}
