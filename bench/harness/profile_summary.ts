/**
 * Summarises a V8 .cpuprofile (from `node --cpu-prof`, which `npm run bench
 * -- --profile` turns on for latchkey): self time by function and by
 * package/file, so a missed target can be traced to its cost.
 *
 *   node dist/bench/harness/profile_summary.js <file.cpuprofile> [top=25]
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Where a frame lives: `aedes`, `src/broker/authenticate.js`, `node:internal/...`. */
function area(url: string): string {
  if (!url) return '(native/vm)';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  const dist = url.indexOf('/dist/');
  if (dist >= 0) return url.slice(dist + 6);
  return url.replace(/^file:\/\//, '');
}

/**
 * Self time (ms) per function and per area, largest first.
 *
 * @example summarise(JSON.parse(readFileSync(f, 'utf8'))).byFunction[0]
 */
export function summariseProfile(profile: Profile): { totalMs: number; byFunction: [string, number][]; byArea: [string, number][] } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const fn = new Map<string, number>();
  const ar = new Map<string, number>();
  let total = 0;
  for (const [id, us] of selfUs) {
    const node = byId.get(id)!;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)') continue;
    total += us;
    const key = `${functionName || '(anonymous)'} ${area(url)}:${lineNumber + 1}`;
    fn.set(key, (fn.get(key) ?? 0) + us);
    const a = area(url);
    ar.set(a, (ar.get(a) ?? 0) + us);
  }
  const sorted = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, v / 1000] as [string, number]);
  return { totalMs: total / 1000, byFunction: sorted(fn), byArea: sorted(ar) };
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  const [file, topArg] = process.argv.slice(2);
  if (!file) {
    console.error('usage: profile_summary.js <file.cpuprofile> [top]');
    process.exit(2);
  }
  const top = Number(topArg ?? 25);
  const s = summariseProfile(JSON.parse(readFileSync(file, 'utf8')) as Profile);
  const pct = (ms: number) => `${((100 * ms) / s.totalMs).toFixed(1).padStart(5)}%`;
  console.log(`busy ${s.totalMs.toFixed(0)} ms (idle excluded)\n\nby area:`);
  for (const [k, ms] of s.byArea.slice(0, 15)) console.log(`${pct(ms)} ${ms.toFixed(0).padStart(7)} ms  ${k}`);
  console.log('\nby function (self):');
  for (const [k, ms] of s.byFunction.slice(0, top)) console.log(`${pct(ms)} ${ms.toFixed(0).padStart(7)} ms  ${k}`);
}
