/**
 * `npm run cluster` (tools/cluster.ts) as a person runs it: nodes on
 * consecutive ports over one PostgreSQL and one Redis, a device on one node
 * heard on another, and Ctrl-C leaving no process behind.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { clusterPorts } from '../../tools/cluster_ports.js';
import { runCli, spawnTimeout, tempDir } from '../helpers/cli.js';
import { connectDevice, eventually } from '../helpers/mqtt.js';
import { havePostgres, haveRedis, postgresDatabase, startRedis, type TestDatabase, type TestRedis } from '../helpers/services.js';
import { clientCredentialsToken } from '../helpers/token.js';

const CLUSTER_SCRIPT = resolve(import.meta.dirname, '../../dist/tools/cluster.js');

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe.skipIf(!havePostgres() || !haveRedis())('npm run cluster (skipped without PostgreSQL and redis-server)', { timeout: spawnTimeout(6) }, () => {
  let db: TestDatabase | null = null;
  let redis: TestRedis | null = null;
  let script: ChildProcess | null = null;
  afterEach(async () => {
    if (script && script.exitCode === null && script.signalCode === null) {
      script.kill('SIGINT');
      await once(script, 'exit');
    }
    await redis?.stop();
    await db?.drop();
  });

  it('starts two nodes on consecutive ports; a message published on node 1 reaches node 2; Ctrl-C stops every node', async () => {
    [db, redis] = await Promise.all([postgresDatabase(), startRedis()]);
    // Below the ephemeral range, so no other test's port can be in the way.
    const offset = 10_000 + Math.floor(Math.random() * 1_000) * 10;
    const env = { ...process.env, LATCHKEY_STORE: db.url, LATCHKEY_CLUSTER: redis.url };
    script = spawn(process.execPath, [CLUSTER_SCRIPT, '--nodes', '2', '--dir', tempDir(), '--port-offset', String(offset)], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    script.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    script.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await eventually(() => (output.match(/latchkey listening/g) ?? []).length === 2, spawnTimeout(4), `two nodes listening:\n${output}`);
    const [one, two] = clusterPorts(2, offset);

    const scope = 'mqtt:publish:home/{client_id}/# mqtt:subscribe:home/#';
    const created = JSON.parse((await runCli(['client', 'create', 'c-therm', '--scope', scope, '--json'], env)).stdout) as { client_secret: string };
    const hub = JSON.parse((await runCli(['client', 'create', 'c-hub', '--scope', 'mqtt:subscribe:home/#', '--json'], env)).stdout) as { client_secret: string };
    const listener = await connectDevice(`mqtt://127.0.0.1:${two!.mqtt}`, 'c-hub', (await clientCredentialsToken(`http://127.0.0.1:${two!.http}`, 'c-hub', hub.client_secret)).access_token);
    const heard: string[] = [];
    listener.on('message', (topic, payload) => heard.push(`${topic} ${payload.toString()}`));
    await listener.subscribeAsync('home/#', { qos: 1 });
    const thermostat = await connectDevice(`mqtt://127.0.0.1:${one!.mqtt}`, 'c-therm', (await clientCredentialsToken(`http://127.0.0.1:${one!.http}`, 'c-therm', created.client_secret)).access_token);
    await thermostat.publishAsync('home/c-therm/temperature', '21.5', { qos: 1 });
    await eventually(() => heard.includes('home/c-therm/temperature 21.5'), 5_000, 'delivery on node 2');
    // `latchkey sessions` lists both, each with the node that holds it.
    let sessions: { client_id: string; instance: string }[] = [];
    await eventually(async () => {
      sessions = (JSON.parse((await runCli(['sessions', '--json'], env)).stdout) as { sessions: typeof sessions }).sessions;
      return sessions.length === 2;
    }, 10_000, 'both sessions listed');
    expect(new Set(sessions.map((session) => session.instance)).size).toBe(2);
    await Promise.all([thermostat.endAsync(), listener.endAsync()]);
    const children = [...output.matchAll(/^node \d \(pid (\d+)\)/gm)].map((m) => Number(m[1]));
    expect(children).toHaveLength(2);
    script.kill('SIGINT');
    const [code] = (await once(script, 'exit')) as [number | null];
    expect(code).toBe(0);
    for (const pid of children) expect(alive(pid)).toBe(false);
  });
});
