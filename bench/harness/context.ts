import { join } from 'node:path';
import type { Row } from './results.js';
import { startServer, type ServerHandle } from './server_process.js';

/** What every scenario gets from the runner. */
export interface BenchContext {
  quick: boolean;
  /** Repetitions per figure; the median is reported. */
  reps: number;
  /**
   * Wall-time budget of one timed run, ms. Runs stop at their count or at
   * this budget, whichever comes first, so a slow or busy machine still
   * finishes the whole bench in bounded time (with fewer operations).
   */
  runMs: number;
  /** Temporary directory of this run (data dirs, certificates, logs); removed at the end. */
  workDir: string;
  /** When set, latchkey's timed parts are CPU-profiled into this directory. */
  profileDir: string | null;
  /** Path of the mosquitto binary, or null when it is not installed. */
  mosquitto: string | null;
  log(message: string): void;
  /** Registers work to run when the bench ends (removing directories outside workDir). */
  cleanup(task: () => void): void;
}

export interface Scenario {
  /** Name used by `--only`. */
  name: string;
  title: string;
  run(ctx: BenchContext): Promise<Row[]>;
}

/** `quick` in a smoke run, `full` otherwise. */
export function size(ctx: BenchContext, full: number, quick: number): number {
  return ctx.quick ? quick : full;
}

let serial = 0;

/**
 * Starts a server child for a scenario with its log in the run's directory;
 * latchkey gets `--cpu-prof` when profiling was asked for.
 *
 * @example const aedes = await launch(ctx, 'aedes', 'aedes', {});
 */
export function launch(ctx: BenchContext, name: string, kind: string, options: unknown): Promise<ServerHandle> {
  const label = `${String(++serial).padStart(2, '0')}-${name}`;
  return startServer(name, kind, options, { logFile: join(ctx.workDir, `${label}.log`), profileDir: kind === 'latchkey' ? ctx.profileDir : null });
}

/**
 * Runs `work` against `server` and returns its result with the server CPU
 * time it cost (ms, /proc utime + stime, 10 ms resolution). When the server
 * is being profiled, the timed part (only) is written to
 * `<profileDir>/<label>-<n>.cpuprofile`.
 *
 * @example const { result, cpuMs } = await withCpu(server, () => connectStorm(opts), 'connect-new');
 */
export async function withCpu<T>(server: ServerHandle, work: () => Promise<T>, label = 'run'): Promise<{ result: T; cpuMs: number }> {
  if (server.profileDir) await server.request('profileStart');
  const before = server.cpuMs();
  const result = await work();
  const cpuMs = server.cpuMs() - before;
  if (server.profileDir) await server.request('profileStop', { file: join(server.profileDir, `${label}-${++profiles}.cpuprofile`) });
  return { result, cpuMs };
}

let profiles = 0;

/**
 * Repetitions interleaved across servers (A B A B ...) so that drift on a
 * shared machine spreads over both sides of a ratio instead of one.
 *
 * @example await interleave(3, ['aedes', 'latchkey'], async (rep, name) => { ... });
 */
export async function interleave<N extends string>(reps: number, names: readonly N[], each: (rep: number, name: N) => Promise<void>): Promise<void> {
  for (let rep = 0; rep < reps; rep++) {
    for (const name of names) await each(rep, name);
  }
}
