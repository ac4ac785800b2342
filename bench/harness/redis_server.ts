import { execFile, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { serverCorePrefix } from './pin.js';
import { cpuMs } from './proc.js';
import { freePort } from '../../src/app/free_port.js';

const run = promisify(execFile);

/** Calls and time Redis spent, per command (`INFO commandstats`). */
export type CommandStats = Map<string, { calls: number; usec: number }>;

/** A redis-server the bench started for itself: loopback, a free port, no persistence, on the server core. */
export interface BenchRedis {
  url: string;
  port: number;
  pid: number;
  /** utime + stime of redis-server so far, ms. */
  cpuMs(): number;
  commandStats(): Promise<CommandStats>;
  /** `used_memory` (bytes Redis allocated for data and buffers). */
  usedMemory(): Promise<number>;
  /** `pubsub_patterns`: subscription patterns held by all connections together. */
  patternCount(): Promise<number>;
  stop(): Promise<void>;
}

/**
 * Why the bench cannot run its own Redis here, or null when it can.
 *
 * @example const why = redisMissing(); if (why) console.log(`skipped: ${why}`);
 */
export function redisMissing(): string | null {
  for (const bin of ['redis-server', 'redis-cli']) {
    if (spawnSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' }).status !== 0) return `${bin} is not installed (Debian: apt-get install redis-server)`;
  }
  return null;
}

/**
 * Starts a private redis-server pinned to the server core (it serves the
 * nodes under test, so it is part of what is measured), with its log in
 * `logFile`, and waits until it accepts commands.
 *
 * @example const redis = await startBenchRedis('/tmp/run/redis.log'); … await redis.stop();
 */
export async function startBenchRedis(logFile: string): Promise<BenchRedis> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort('127.0.0.1');
    const logFd = openSync(logFile, 'a');
    const argv = [...serverCorePrefix(), 'redis-server', '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'no'];
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', logFd, logFd] });
    closeSync(logFd);
    const ready = await waitUntil(() => answers(port), 10_000, () => child.exitCode !== null);
    if (ready) {
      const pid = child.pid!;
      const info = async (section: string) => (await run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), 'INFO', section])).stdout;
      return {
        url: `redis://127.0.0.1:${port}`,
        port,
        pid,
        cpuMs: () => cpuMs(pid),
        commandStats: async () => parseCommandStats(await info('commandstats')),
        usedMemory: async () => Number(/^used_memory:(\d+)/m.exec(await info('memory'))?.[1] ?? Number.NaN),
        patternCount: async () => Number(/^pubsub_patterns:(\d+)/m.exec(await info('stats'))?.[1] ?? Number.NaN),
        async stop() {
          if (child.exitCode !== null || child.signalCode !== null) return;
          child.kill('SIGKILL');
          await once(child, 'exit');
        },
      };
    }
    child.kill('SIGKILL');
    // Something else took the port between the probe and redis binding it: another port.
    if (attempt >= 3) throw new Error(`redis-server did not start; log tail:\n${readFileSync(logFile, 'utf8').split('\n').slice(-10).join('\n')}`);
  }
}

/**
 * `INFO commandstats` → calls and µs per command; the bench's own INFO
 * calls are left out.
 *
 * @example parseCommandStats('cmdstat_publish:calls=3,usec=12,usec_per_call=4.00\r\n').get('publish') // { calls: 3, usec: 12 }
 */
export function parseCommandStats(text: string): CommandStats {
  const out: CommandStats = new Map();
  for (const match of text.matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm)) {
    if (match[1] === 'info') continue;
    out.set(match[1]!, { calls: Number(match[2]), usec: Number(match[3]) });
  }
  return out;
}

/** `after − before`, per command, commands that moved only. */
export function commandDelta(before: CommandStats, after: CommandStats): CommandStats {
  const out: CommandStats = new Map();
  for (const [name, a] of after) {
    const b = before.get(name) ?? { calls: 0, usec: 0 };
    if (a.calls > b.calls) out.set(name, { calls: a.calls - b.calls, usec: a.usec - b.usec });
  }
  return out;
}

/** Total calls of a delta. */
export function totalCalls(stats: CommandStats): number {
  let n = 0;
  for (const s of stats.values()) n += s.calls;
  return n;
}

async function answers(port: number): Promise<boolean> {
  try {
    return (await run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), 'PING'])).stdout.trim() === 'PONG';
  } catch {
    return false;
  }
}

async function waitUntil(check: () => Promise<boolean>, timeoutMs: number, givenUp: () => boolean): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !givenUp()) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return false;
}

