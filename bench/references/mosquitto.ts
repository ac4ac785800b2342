import { execFileSync, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import net, { type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { cpuMs, rssKb } from '../harness/proc.js';
import { serverCorePrefix } from '../harness/pin.js';
import type { ServerHandle } from '../harness/server_process.js';

/** Path of `mosquitto`, or null: the bench never installs it, it only uses it when present. */
export function findMosquitto(): string | null {
  try {
    return execFileSync('sh', ['-c', 'command -v mosquitto || ls /usr/sbin/mosquitto 2>/dev/null'], { encoding: 'utf8' }).trim().split('\n')[0] || null;
  } catch {
    return null;
  }
}

/**
 * Mosquitto with a password file (hashed by mosquitto_passwd), no
 * persistence and no logging, on 127.0.0.1, pinned to the server core like
 * every other server under test.
 *
 * @example const m = await startMosquitto(bin, dir, [{ id: 'dev1', secret: 's' }]);
 */
export async function startMosquitto(bin: string, dir: string, users: { id: string; secret: string }[]): Promise<ServerHandle> {
  const passwordFile = join(dir, 'mosquitto.passwd');
  writeFileSync(passwordFile, users.map((u) => `${u.id}:${u.secret}`).join('\n') + '\n', { mode: 0o600 });
  // mosquitto_passwd lives in /usr/bin while the broker is in /usr/sbin on Debian.
  const passwd = execFileSync('sh', ['-c', 'command -v mosquitto_passwd'], { encoding: 'utf8' }).trim();
  execFileSync(passwd || join(bin, '..', 'mosquitto_passwd'), ['-U', passwordFile]);
  const port = await freePort();
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(
    conf,
    [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous false',
      `password_file ${passwordFile}`,
      'persistence false',
      'log_dest stderr',
      'log_type error',
      'max_connections -1',
      // Like Aedes: no cap on queued or in-flight QoS 1 messages, so none is dropped under load.
      'max_queued_messages 0',
      'max_inflight_messages 0',
      // As root mosquitto drops to user "mosquitto", who cannot read the bench's private directory.
      ...(process.getuid?.() === 0 ? ['user root'] : []),
      '',
    ].join('\n'),
  );
  const logFd = openSync(join(dir, 'mosquitto.log'), 'a');
  const argv = [...serverCorePrefix(), bin, '-c', conf];
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', logFd, logFd] });
  closeSync(logFd);
  await waitForPort(port, 5_000).catch((err: Error) => {
    child.kill('SIGKILL');
    throw new Error(`${err.message}: ${readFileSync(join(dir, 'mosquitto.log'), 'utf8').trim().split('\n').slice(-3).join(' / ')}`);
  });
  const pid = child.pid!;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    name: 'mosquitto',
    pid,
    ports: { mqtt: port },
    profileDir: null,
    request: () => Promise.reject(new Error('mosquitto has no bench operations')),
    cpuMs: () => cpuMs(pid),
    rssKb: () => rssKb(pid),
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port }, () => (s.destroy(), resolve(true)));
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`mosquitto did not listen on ${port} within ${timeoutMs} ms`);
}
