import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { redactUrl } from '../src/config/redact_url.js';
import { clusterPorts, MAX_NODES, MAX_PORT_OFFSET, type NodePorts } from './cluster_ports.js';

const HELP = `npm run cluster [-- --nodes 3] [-- --dir ./cluster] [-- --port-offset 0]

Starts several latchkey nodes on this machine, sharing one PostgreSQL store
and one Redis, on consecutive ports (node 1 on the usual ones):

  node   mqtt  mqtts  ws    wss   http  https
  1      1883  8883   8083  8084  8080  8443
  2      1884  8884   8085  8086  8081  8444
  3      1885  8885   8087  8088  8082  8445

  LATCHKEY_STORE    PostgreSQL to use (default
                    postgres://latchkey:latchkey@127.0.0.1:5432/latchkey;
                    the database is created when missing)
  LATCHKEY_CLUSTER  Redis to use; when unset, a private redis-server is started
                    on 127.0.0.1:6379 (Debian: apt-get install redis-server)

  --nodes <n>   how many nodes (1 to 3, default 3)
  --dir <path>  where each node keeps its local files (default ./cluster)
  --port-offset <n>  added to every port above (default 0)
  -h, --help    this text

Every node issues tokens as http://localhost:8080 so a token from one is
accepted by all. Ctrl-C stops every process this command started.
`;

const DEFAULT_STORE = 'postgres://latchkey:latchkey@127.0.0.1:5432/latchkey';
const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      nodes: { type: 'string', default: '3' },
      dir: { type: 'string', default: './cluster' },
      'port-offset': { type: 'string', default: '0' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const count = Number(values.nodes);
  if (!Number.isInteger(count) || count < 1 || count > MAX_NODES) {
    process.stderr.write(`error: --nodes must be a whole number from 1 to ${MAX_NODES}\n`);
    return 2;
  }
  const offset = Number(values['port-offset']);
  if (!Number.isInteger(offset) || offset < 0 || offset > MAX_PORT_OFFSET) {
    process.stderr.write(`error: --port-offset must be a whole number from 0 to ${MAX_PORT_OFFSET}\n`);
    return 2;
  }
  const store = process.env.LATCHKEY_STORE ?? DEFAULT_STORE;
  try {
    await ensureDatabase(store);
  } catch (err) {
    process.stderr.write(`error: PostgreSQL at ${redactUrl(store)} did not answer (${(err as Error).message}).\n` +
      'Start PostgreSQL, or set LATCHKEY_STORE to a postgres:// URL of a role that may create a database.\n');
    return 7;
  }
  const children: ChildProcess[] = [];
  const stopAll = () => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  };
  process.once('SIGINT', stopAll);
  process.once('SIGTERM', stopAll);

  let redis = process.env.LATCHKEY_CLUSTER;
  if (redis === undefined) {
    if (spawnSync('sh', ['-c', 'command -v redis-server'], { stdio: 'ignore' }).status !== 0) {
      process.stderr.write('error: LATCHKEY_CLUSTER is not set and redis-server is not installed (Debian: apt-get install redis-server).\n');
      return 7;
    }
    const server = spawn('redis-server', ['--port', '6379', '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    children.push(server);
    if (!(await answers(6379))) {
      stopAll();
      process.stderr.write('error: redis-server did not start on 127.0.0.1:6379 (is the port taken? set LATCHKEY_CLUSTER instead)\n');
      return 7;
    }
    redis = 'redis://127.0.0.1:6379';
  }

  const dir = resolve(values.dir);
  const ports = clusterPorts(count, offset);
  const issuer = `http://localhost:${ports[0]!.http}`;
  const exits: Promise<unknown>[] = [];
  for (const [index, node] of ports.entries()) {
    const nodeDir = join(dir, `node-${index + 1}`);
    mkdirSync(nodeDir, { recursive: true, mode: 0o700 });
    const child = spawn(process.execPath, [CLI, 'start', ...nodeArgs(node, nodeDir, issuer), '--log-format', 'pretty'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, LATCHKEY_STORE: store, LATCHKEY_CLUSTER: redis },
    });
    children.push(child);
    process.stdout.write(`node ${index + 1} (pid ${child.pid}): mqtt ${node.mqtt} mqtts ${node.mqtts} ws ${node.ws} wss ${node.wss} http ${node.http} https ${node.https}\n`);
    prefixLines(child, `node ${index + 1} `);
    exits.push(once(child, 'exit'));
  }
  process.stdout.write(`${count} nodes starting on ${redactUrl(store)} and ${redactUrl(redis)}; issuer ${issuer}. Ctrl-C stops them.\n`);
  await Promise.race(exits);
  // One node gone (crashed or stopped): stop the rest, so nothing is left behind.
  stopAll();
  await Promise.all(exits);
  return 0;
}

function nodeArgs(node: NodePorts, dir: string, issuer: string): string[] {
  return [
    '--data-dir', dir, '--certs-dir', join(dir, 'certs'), '--issuer', issuer,
    '--mqtt-port', String(node.mqtt), '--mqtts-port', String(node.mqtts), '--ws-port', String(node.ws),
    '--wss-port', String(node.wss), '--http-port', String(node.http), '--https-port', String(node.https),
  ];
}

function prefixLines(child: ChildProcess, prefix: string): void {
  for (const stream of [child.stdout!, child.stderr!]) {
    let rest = '';
    stream.on('data', (chunk: Buffer) => {
      const lines = (rest + chunk.toString()).split('\n');
      rest = lines.pop()!;
      for (const line of lines) process.stdout.write(`${prefix}${line}\n`);
    });
  }
}

/** Creates the database named in `url` when it does not exist yet. */
async function ensureDatabase(url: string): Promise<void> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.slice(1)) || 'latchkey';
  const maintenance = new URL(url);
  maintenance.pathname = '/postgres';
  const client = new pg.Client({ connectionString: maintenance.toString(), connectionTimeoutMillis: 3000 });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount === 0) await client.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
  } finally {
    await client.end();
  }
}

async function answers(port: number): Promise<boolean> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const ok = await new Promise<boolean>((done) => {
      const socket = createConnection({ host: '127.0.0.1', port }, () => {
        socket.end();
        done(true);
      });
      socket.on('error', () => done(false));
    });
    if (ok) return true;
    await new Promise((wait) => setTimeout(wait, 100));
  }
  return false;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`error: ${(err as Error).message}\n`);
    process.exit(1);
  },
);
