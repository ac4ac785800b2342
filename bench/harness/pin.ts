import { execFileSync } from 'node:child_process';

/**
 * Core placement. Servers run on {@link SERVER_CORE}, the load generator (this
 * process and anything it spawns) on {@link GENERATOR_CORE}, so the two never
 * compete for a core and the broker's rate is the broker's.
 */
export const SERVER_CORE = 0;
export const GENERATOR_CORE = 1;

let tasksetPath: string | null | undefined;

/** Absolute path of taskset (util-linux), or null when it is not installed. */
export function taskset(): string | null {
  if (tasksetPath === undefined) {
    try {
      tasksetPath = execFileSync('sh', ['-c', 'command -v taskset'], { encoding: 'utf8' }).trim() || null;
    } catch {
      tasksetPath = null;
    }
  }
  return tasksetPath;
}

/**
 * Pins every thread of this process to the generator core (`taskset -a -p`);
 * children spawned later inherit it. Returns false when taskset is missing or
 * the machine has a single core, in which case figures are still produced
 * but the report says they were not pinned.
 *
 * @example if (!pinGenerator()) console.warn('unpinned');
 */
export function pinGenerator(): boolean {
  const bin = taskset();
  if (!bin) return false;
  try {
    execFileSync(bin, ['-a', '-p', '-c', String(GENERATOR_CORE), String(process.pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * The argv prefix that starts a command on the server core, e.g.
 * `['taskset', '-c', '0']`, or `[]` when taskset is missing.
 */
export function serverCorePrefix(): string[] {
  const bin = taskset();
  return bin ? [bin, '-c', String(SERVER_CORE)] : [];
}
