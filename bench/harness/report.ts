import type { Measurement, Row, RunResults } from './results.js';

/**
 * Renders results as the console table and the markdown page. Each row: the
 * figure, latchkey, the reference, the ratio, the target and pass/miss, with
 * broker CPU per operation and p99 beside the rates.
 */

function num(v: number | undefined, digits = 0): string {
  if (v === undefined || !Number.isFinite(v)) return '–';
  return v >= 100 || digits === 0 ? Math.round(v).toLocaleString('en-US') : v.toFixed(digits);
}

/** `9,120 connects/s · 95 µs CPU/op · p99 12.3 ms` */
export function describe(m: Measurement | null | undefined): string {
  if (!m) return '–';
  const parts = [`${num(m.value, m.value < 10 ? 2 : 1)} ${m.unit}`];
  if (m.cpuUsPerOp !== undefined) parts.push(`${num(m.cpuUsPerOp, 1)} µs CPU/op`);
  if (/ms p99$/.test(m.unit)) {
    if (m.p50Ms !== undefined) parts.push(`p50 ${num(m.p50Ms, 1)} ms`);
  } else if (m.p99Ms !== undefined) parts.push(`p99 ${num(m.p99Ms, 1)} ms`);
  return parts.join(' · ');
}

function verdict(r: Row): string {
  if (r.skipped) return 'skipped';
  if (r.pass === null) return '';
  return r.pass ? 'pass' : 'MISS';
}

function ratioText(r: Row): string {
  return r.ratio === null ? '–' : `${r.ratio.toFixed(2)}×`;
}

function othersText(r: Row): string {
  return r.others.map((o) => `${o.name}: ${o.m ? describe(o.m) : (o.note ?? '–')}`).join('; ');
}

/** Plain-text table for the terminal. */
export function consoleTable(results: RunResults): string {
  const header = ['figure', 'latchkey', 'reference', 'ratio', 'target', ''];
  const lines = results.rows.map((r) => [
    r.title,
    describe(r.latchkey),
    r.reference ? `${r.reference.name}: ${describe(r.reference.m)}` : '',
    ratioText(r),
    r.target,
    verdict(r),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const fmt = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  const out = [fmt(header), widths.map((w) => '-'.repeat(w)).join('  ')];
  for (const [i, l] of lines.entries()) {
    out.push(fmt(l));
    const r = results.rows[i]!;
    const extra = [...r.notes, othersText(r)].filter(Boolean);
    if (extra.length) out.push(`    ${extra.join(' | ')}`);
  }
  for (const f of results.failures) out.push(`FAILED ${f.scenario}: ${f.error}`);
  return out.join('\n');
}

function md(text: string): string {
  return text.replace(/\|/g, '\\|');
}

/** The docs/BENCHMARKS.md table and its context. */
export function markdownTable(results: RunResults): string {
  const lines = [
    '| figure | latchkey | reference | ratio | target | result |',
    '| --- | --- | --- | --- | --- | --- |',
    ...results.rows.map(
      (r) =>
        `| ${md(r.title)} | ${md(describe(r.latchkey))} | ${r.reference ? md(`${r.reference.name}: ${describe(r.reference.m)}`) : ''} | ${ratioText(r)} | ${md(r.target)} | ${verdict(r) === 'MISS' ? '**miss**' : verdict(r)} |`,
    ),
  ];
  const notes = results.rows
    .map((r) => ({ r, extra: [...r.notes, othersText(r)].filter(Boolean) }))
    .filter(({ extra }) => extra.length)
    .map(({ r, extra }) => `- ${md(r.title)}: ${md(extra.join('; '))}`);
  const failures = results.failures.map((f) => `- **${f.scenario} did not run**: ${md(f.error)}`);
  return [...lines, '', ...notes, ...failures].join('\n');
}
