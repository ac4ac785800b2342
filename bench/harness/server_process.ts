import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { cpuMs, rssKb } from './proc.js';
import { serverCorePrefix } from './pin.js';

/** A server under test running in its own process on the server core. */
export interface ServerHandle {
  readonly name: string;
  readonly pid: number;
  readonly ports: Readonly<Record<string, number>>;
  /** Where to write CPU profiles of this server's timed parts; null when not profiling. */
  readonly profileDir: string | null;
  /** Calls an operation the child exposes over IPC (gc, createClients, ...). */
  request<T = unknown>(op: string, args?: unknown): Promise<T>;
  /** utime + stime of the server process so far, ms. */
  cpuMs(): number;
  /** VmRSS of the server process, kB. */
  rssKb(): number;
  stop(): Promise<void>;
}

/** What a child sends and answers over its IPC channel. */
export type ChildMessage =
  | { type: 'ready'; ports: Record<string, number> }
  | { type: 'reply'; id: number; ok: true; result: unknown }
  | { type: 'reply'; id: number; ok: false; error: string };

export interface StartOptions {
  /** Where the child's stdout and stderr go (its JSON logs for latchkey). */
  logFile: string;
  /** Extra node flags. */
  nodeFlags?: string[];
  /** Profile every timed part (see withCpu) into this directory. */
  profileDir?: string | null;
  readyTimeoutMs?: number;
}

const CHILD_MAIN = fileURLToPath(new URL('../servers/child_main.js', import.meta.url));

/**
 * Starts `kind` (a reference or latchkey, see servers/child_main.ts) in a
 * child node process pinned to the server core, and waits until it listens.
 * Every server under test, latchkey included, runs this way: the same
 * process model, the same core, the same node flags.
 *
 * @example const aedes = await startServer('aedes', 'aedes', {}, { logFile: '/tmp/a.log' });
 */
export async function startServer(name: string, kind: string, options: unknown, start: StartOptions): Promise<ServerHandle> {
  const logFd = openSync(start.logFile, 'a');
  const argv = [...serverCorePrefix(), process.execPath, '--expose-gc', ...(start.nodeFlags ?? []), CHILD_MAIN, kind, JSON.stringify(options)];
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', logFd, logFd, 'ipc'] });
  closeSync(logFd);
  const ports = await waitReady(child, start.logFile, start.readyTimeoutMs ?? 30_000);
  return wrap(name, child, ports, start.profileDir ?? null);
}

function waitReady(child: ChildProcess, logFile: string, timeoutMs: number): Promise<Record<string, number>> {
  return new Promise((resolve, reject) => {
    const fail = (why: string) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`${why}; log tail:\n${tail(logFile)}`));
    };
    const timer = setTimeout(() => fail(`server not ready after ${timeoutMs} ms`), timeoutMs);
    child.once('exit', (code, signal) => fail(`server exited (${code ?? signal}) before it was ready`));
    child.on('message', (msg: ChildMessage) => {
      if (msg.type === 'ready') {
        clearTimeout(timer);
        child.removeAllListeners('exit');
        resolve(msg.ports);
      }
    });
  });
}

function wrap(name: string, child: ChildProcess, ports: Record<string, number>, profileDir: string | null): ServerHandle {
  const pid = child.pid!;
  let nextId = 1;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let exited = false;
  const exitPromise = new Promise<void>((resolve) =>
    child.once('exit', () => {
      exited = true;
      for (const p of pending.values()) p.reject(new Error(`${name} exited`));
      pending.clear();
      resolve();
    }),
  );
  child.on('message', (msg: ChildMessage) => {
    if (msg.type !== 'reply') return;
    const p = pending.get(msg.id);
    if (!p) return;
    pending.delete(msg.id);
    if (msg.ok) p.resolve(msg.result);
    else p.reject(new Error(`${name}: ${msg.error}`));
  });
  return {
    name,
    pid,
    ports,
    profileDir,
    request<T>(op: string, args?: unknown) {
      if (exited) return Promise.reject(new Error(`${name} has exited`));
      const id = nextId++;
      return new Promise<T>((resolve, reject) => {
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
        child.send({ id, op, args });
      });
    },
    cpuMs: () => cpuMs(pid),
    rssKb: () => rssKb(pid),
    async stop() {
      if (exited) return;
      // A clean exit lets --cpu-prof write its profile; a kill is the fallback.
      child.send({ id: 0, op: 'stop' });
      const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exitPromise;
      clearTimeout(killer);
    },
  };
}

function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-20).join('\n');
  } catch {
    return '(no log)';
  }
}
