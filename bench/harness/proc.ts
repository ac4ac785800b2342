import { readFileSync } from 'node:fs';

/**
 * Readers for /proc: the broker's own accounting, so CPU cost per operation
 * is measured where it is spent and not inferred from the load generator.
 */

/** USER_HZ; Linux reports utime/stime in these ticks and it is 100 on every mainstream build. */
const CLOCK_TICKS_PER_SECOND = 100;

/**
 * utime + stime of every thread of `pid`, in milliseconds (10 ms resolution).
 *
 * @example const before = cpuMs(pid); work(); const used = cpuMs(pid) - before;
 */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces or parentheses: fields are counted after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state), so utime (14) and stime (15) are at 11 and 12.
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1000) / CLOCK_TICKS_PER_SECOND;
}

/**
 * Resident set size (VmRSS) of `pid`, in kilobytes.
 *
 * @example const kb = rssKb(process.pid);
 */
export function rssKb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  if (!match) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(match[1]);
}

/** Soft limit on open files for `pid`, from /proc/<pid>/limits. */
export function openFileLimit(pid: number): number {
  const limits = readFileSync(`/proc/${pid}/limits`, 'utf8');
  const match = /^Max open files\s+(\d+|unlimited)/m.exec(limits);
  if (!match) return 1024;
  return match[1] === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(match[1]);
}
