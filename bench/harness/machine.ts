import { readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';

export interface Machine {
  nproc: number;
  cpuModel: string;
  memoryGiB: number;
  node: string;
  kernel: string;
}

/**
 * The machine a run was measured on, for the results file and the docs table.
 *
 * @example describeMachine().cpuModel // 'AMD EPYC'
 */
export function describeMachine(): Machine {
  let cpuModel = 'unknown';
  let kernel = 'unknown';
  try {
    cpuModel = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? cpuModel;
    kernel = readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
  } catch {
    // Not Linux: leave unknown; the bench needs /proc anyway and will say so.
  }
  return {
    // cpus(), not availableParallelism(): the generator pins itself to one core, and affinity would hide the other.
    nproc: cpus().length,
    cpuModel,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    kernel,
  };
}
