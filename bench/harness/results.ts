/**
 * The shape of a bench run's results: one row per figure the issue names,
 * latchkey beside its reference, the ratio and the target it is held to.
 */

/** One server's figure: the median over repetitions, plus what explains it. */
export interface Measurement {
  /** Median over `reps`. */
  value: number;
  unit: string;
  /** Each repetition's value, in run order. */
  reps: number[];
  /** Server CPU (utime + stime from /proc) per operation, microseconds; median over reps. */
  cpuUsPerOp?: number;
  p50Ms?: number;
  p99Ms?: number;
  /** What makes the figure invalid when present: losses, refusals. */
  note?: string;
  /** Context that does not invalidate it (e.g. where memory went). */
  detail?: string;
}

export interface Row {
  /** Stable key, e.g. `connect.jwt-new`. */
  id: string;
  scenario: string;
  title: string;
  latchkey: Measurement | null;
  reference: { name: string; m: Measurement } | null;
  /** Other servers measured the same way (Mosquitto), for context; not judged. */
  others: { name: string; m: Measurement | null; note?: string }[];
  /** latchkey ÷ reference for rates, reference-relative cost for memory; null when not a comparison. */
  ratio: number | null;
  /** Human text of the target, e.g. `≥ 0.55×`. */
  target: string;
  pass: boolean | null;
  notes: string[];
  /** Why the figure could not be measured on this machine (a service missing); the run goes on without it. */
  skipped?: string;
}

export interface RunResults {
  startedAt: string;
  finishedAt: string;
  durationS: number;
  quick: boolean;
  reps: number;
  pinned: boolean;
  machine: import('./machine.js').Machine;
  mosquitto: string;
  /** 1-minute load average when the run started and ended (other work on the machine). */
  loadAverage: { start: number; end: number };
  rows: Row[];
  /** Scenarios that could not run at all, with the reason. */
  failures: { scenario: string; error: string }[];
}

/**
 * A target on a ratio (`min`/`max`) or on an absolute value (`abs-max`,
 * ms), or none: a figure measured to be known (an overhead, a capacity
 * input), judged only on being valid.
 */
export type Target =
  | { kind: 'min'; ratio: number }
  | { kind: 'max'; ratio: number }
  | { kind: 'abs-max'; value: number; unit: string }
  | { kind: 'none' };

/** @example targetText({ kind: 'min', ratio: 0.55 }) // '≥ 0.55×' */
export function targetText(t: Target): string {
  if (t.kind === 'none') return '–';
  if (t.kind === 'min') return `≥ ${t.ratio}×`;
  if (t.kind === 'max') return `≤ ${t.ratio}×`;
  return `≤ ${t.value} ${t.unit}`;
}

/**
 * Builds a comparison row: ratio = latchkey ÷ reference, judged against the
 * target; a row without both figures, or with notes of lost messages or
 * refused connects (`invalid`), is a miss, never a pass.
 */
export function compareRow(args: {
  id: string;
  scenario: string;
  title: string;
  latchkey: Measurement | null;
  reference: { name: string; m: Measurement } | null;
  others?: Row['others'];
  target: Target;
  notes?: string[];
  invalid?: boolean;
  /** An extra condition the target carries (e.g. CPU per connect ≤ 2× plain). */
  extra?: { ok: boolean; note: string };
}): Row {
  const l = args.latchkey?.value;
  const r = args.reference?.m.value;
  const ratio = l !== undefined && r !== undefined && Number.isFinite(l) && Number.isFinite(r) && r !== 0 ? l / r : null;
  let pass: boolean | null = null;
  if (args.target.kind === 'none') pass = null;
  else if (args.target.kind === 'abs-max') pass = l !== undefined && Number.isFinite(l) ? l <= args.target.value : false;
  else if (ratio === null) pass = false;
  else pass = args.target.kind === 'min' ? ratio >= args.target.ratio : ratio <= args.target.ratio;
  const notes = [...(args.notes ?? [])];
  if (args.latchkey?.note) notes.push(`latchkey: ${args.latchkey.note}`);
  if (args.reference?.m.note) notes.push(`${args.reference.name}: ${args.reference.m.note}`);
  if (args.extra) {
    notes.push(args.extra.note);
    if (!args.extra.ok) pass = false;
  }
  if (args.invalid) pass = false;
  return {
    id: args.id,
    scenario: args.scenario,
    title: args.title,
    latchkey: args.latchkey,
    reference: args.reference,
    others: args.others ?? [],
    ratio,
    target: targetText(args.target),
    pass,
    notes,
  };
}

/**
 * A row that could not be measured here, saying why: neither a pass nor a
 * miss, so a machine without PostgreSQL or Redis still runs the rest.
 *
 * @example skippedRow({ id: 'cluster.connect-cpu', scenario: 'cluster', title: '…', why: 'redis-server is not installed' })
 */
export function skippedRow(args: { id: string; scenario: string; title: string; why: string }): Row {
  return { id: args.id, scenario: args.scenario, title: args.title, latchkey: null, reference: null, others: [], ratio: null, target: '–', pass: null, notes: [`skipped: ${args.why}`], skipped: args.why };
}
