/**
 * `npm run bench`: latchkey side by side with its references, in one run.
 *
 *   node dist/bench/run.js [--quick] [--only connect,publish] [--reps N] [--profile] [--no-docs]
 *
 * Prints the table, writes bench/results/<timestamp>.json and (full runs of
 * every scenario) regenerates docs/BENCHMARKS.md.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { BenchContext, Scenario } from './harness/context.js';
import { benchmarksPage } from './harness/docs.js';
import { describeMachine, type Machine } from './harness/machine.js';
import { pinGenerator } from './harness/pin.js';
import { consoleTable } from './harness/report.js';
import type { Row, RunResults } from './harness/results.js';
import { findMosquitto } from './references/mosquitto.js';
import { SCENARIOS } from './scenarios/index.js';

const ROOT = resolve(fileURLToPath(import.meta.url), '../../..');

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      reps: { type: 'string' },
      profile: { type: 'boolean', default: false },
      'no-docs': { type: 'boolean', default: false },
    },
  });
  const only = values.only?.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = only?.filter((n) => !SCENARIOS.some((s) => s.name === n)) ?? [];
  if (unknown.length) {
    console.error(`unknown scenario ${unknown.join(', ')}; choose from ${SCENARIOS.map((s) => s.name).join(', ')}`);
    process.exit(2);
  }
  const selected: Scenario[] = only ? SCENARIOS.filter((s) => only.includes(s.name)) : SCENARIOS;
  const machine = describeMachine();
  const pinned = machine.nproc >= 2 && pinGenerator();
  const mosquitto = findMosquitto();
  const resultsDir = join(ROOT, 'bench', 'results');
  const profileDir = values.profile ? join(resultsDir, 'profiles') : null;
  if (profileDir) mkdirSync(profileDir, { recursive: true });
  const cleanups: (() => void)[] = [];
  const workDir = mkdtempSync(join(tmpdir(), 'latchkey-bench-'));
  const ctx: BenchContext = {
    quick: values.quick,
    reps: values.reps ? Math.max(1, Number(values.reps)) : values.quick ? 1 : 3,
    runMs: values.quick ? 1_500 : 4_000,
    workDir,
    profileDir,
    mosquitto,
    log: (message) => console.log(message),
    cleanup: (task) => cleanups.push(task),
  };
  const started = new Date();
  // Other work on a shared machine shows here: read ratios, not absolute rates, when it is high.
  const loadStart = loadavg()[0]!;
  console.log(
    `latchkey bench: ${selected.map((s) => s.name).join(', ')} · ${ctx.reps} rep(s)${ctx.quick ? ' · quick' : ''} · ${machine.nproc} cores ${machine.cpuModel} · node ${machine.node}`,
  );
  if (!pinned) console.log('WARNING: not pinned (taskset missing or one core): server and generator share cores');
  console.log(`mosquitto: ${mosquitto ?? 'not installed'}`);

  // Temporary directories go whatever happens, Ctrl-C included.
  const removeTemporaries = () => {
    rmSync(workDir, { recursive: true, force: true });
    for (const task of cleanups.splice(0)) task();
  };
  process.once('SIGINT', () => {
    removeTemporaries();
    process.exit(130);
  });
  try {
    await runAll(selected, ctx, { started, machine, pinned, mosquitto, loadStart, resultsDir, only, docs: !values['no-docs'] });
  } finally {
    removeTemporaries();
  }
}

async function runAll(
  selected: Scenario[],
  ctx: BenchContext,
  run: { started: Date; machine: Machine; pinned: boolean; mosquitto: string | null; loadStart: number; resultsDir: string; only: string[] | undefined; docs: boolean },
): Promise<void> {
  const { started, machine, pinned, mosquitto, loadStart, resultsDir, only } = run;
  const rows: Row[] = [];
  const failures: RunResults['failures'] = [];
  for (const scenario of selected) {
    const t0 = Date.now();
    console.log(`\n== ${scenario.title}`);
    try {
      rows.push(...(await scenario.run(ctx)));
    } catch (err) {
      const error = err instanceof Error ? err.message.split('\n')[0]! : String(err);
      console.log(`  FAILED: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      failures.push({ scenario: scenario.name, error });
    }
    console.log(`  (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  }

  const finished = new Date();
  const results: RunResults = {
    startedAt: started.toISOString(),
    finishedAt: finished.toISOString(),
    durationS: (finished.getTime() - started.getTime()) / 1000,
    quick: ctx.quick,
    reps: ctx.reps,
    pinned,
    machine,
    mosquitto: mosquitto ? `installed (${mosquitto})` : 'not installed',
    loadAverage: { start: loadStart, end: loadavg()[0]! },
    rows,
    failures,
  };
  console.log(`\n${consoleTable(results)}\n`);
  mkdirSync(resultsDir, { recursive: true });
  const suffix = ctx.quick ? '-quick' : only ? '-partial' : '';
  const file = join(resultsDir, `${started.toISOString().replace(/[:.]/g, '-')}${suffix}.json`);
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`results: ${relative(ROOT, file)}`);
  if (!ctx.quick && !only && run.docs) {
    const docs = join(ROOT, 'docs', 'BENCHMARKS.md');
    mkdirSync(join(ROOT, 'docs'), { recursive: true });
    writeFileSync(docs, benchmarksPage(results, relative(ROOT, file)));
    console.log(`table: ${relative(ROOT, docs)}`);
  }
  const met = rows.filter((r) => r.pass === true).length;
  const misses = rows.filter((r) => r.pass === false).length;
  const skipped = rows.filter((r) => r.skipped).length;
  console.log(
    `${met} targets met, ${misses} missed${skipped ? `, ${skipped} skipped` : ''}${failures.length ? `, ${failures.length} scenario(s) failed` : ''} in ${results.durationS.toFixed(0)} s`,
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
