import { CommanderError } from 'commander';
import { EXIT_STATUS, LatchkeyError } from '../errors/latchkey_error.js';

/**
 * What a command answers: one JSON object for `--json` (or, for streams like
 * `audit`, one object per line: JSON Lines) and short text for people.
 * Commands build this; {@link emit} is the only place that prints it.
 */
export type CommandOutput =
  | { readonly json: Record<string, unknown>; readonly text: string }
  | { readonly jsonLines: readonly Record<string, unknown>[]; readonly text: string };

/**
 * Prints a command's answer on stdout: JSON when `--json` was given, else text.
 *
 * @example emit({ json: { jti, revoked: true }, text: `revoked ${jti}` }, true)
 */
export function emit(output: CommandOutput, json: boolean, out: NodeJS.WritableStream = process.stdout): void {
  if (!json) {
    if (output.text !== '') out.write(output.text.endsWith('\n') ? output.text : `${output.text}\n`);
    return;
  }
  if ('jsonLines' in output) {
    out.write(output.jsonLines.map((line) => `${JSON.stringify(line)}\n`).join(''));
  } else {
    out.write(`${JSON.stringify(output.json)}\n`);
  }
}

/** Exit statuses outside {@link EXIT_STATUS}: a usage error is bad input (2). */
const USAGE_EXIT = 2;
const OTHER_EXIT = 1;

/**
 * The one error path: turns anything thrown by a command, by commander or by
 * the store into exactly one `error: …` line and an exit status
 * (2 bad input, 3 not found, 4 conflict, 1 anything else). Expected errors
 * never print a stack; unexpected ones do only with LATCHKEY_DEBUG set.
 *
 * @example process.exitCode = reportError(new LatchkeyError('not_found', 'no client "t1"')) // 3
 */
export function reportError(err: unknown, errOut: NodeJS.WritableStream = process.stderr, hint?: string): number {
  const { message, status } = classify(err, hint);
  errOut.write(`error: ${oneLine(message)}\n`);
  if (status === OTHER_EXIT && process.env.LATCHKEY_DEBUG && err instanceof Error && err.stack) {
    errOut.write(`${err.stack}\n`);
  }
  return status;
}

/**
 * PostgreSQL (`--store`) failures a script can act on, as the exit statuses
 * of the same situations elsewhere: no answer is a server that cannot be
 * reached (7), refused credentials a server that refused (6, SQLSTATE class
 * 28), a missing database no database where the CLI looked (8, 3D000).
 */
const STORE_EXIT: Record<string, number> = {
  store_unavailable: EXIT_STATUS.unavailable,
  '28000': EXIT_STATUS.unauthorized,
  '28P01': EXIT_STATUS.unauthorized,
  '3D000': EXIT_STATUS.not_initialised,
};

function classify(err: unknown, hint?: string): { message: string; status: number } {
  if (err instanceof LatchkeyError) return { message: err.message, status: EXIT_STATUS[err.code] ?? OTHER_EXIT };
  if (err instanceof CommanderError) {
    // commander's messages already start with "error: ".
    const message = err.message.replace(/^error:\s*/, '');
    if (err.code === 'commander.help') return { message: hint ?? 'missing command; see --help', status: USAGE_EXIT };
    return { message, status: USAGE_EXIT };
  }
  if (err instanceof Error && 'code' in err && typeof err.code === 'string') {
    // PkiError and friends: bad input when the code says so, else a plain failure.
    const status = /^(invalid_|csr_)/.test(err.code) ? USAGE_EXIT : (STORE_EXIT[err.code] ?? OTHER_EXIT);
    return { message: err.message, status };
  }
  if (err instanceof Error) return { message: err.message, status: OTHER_EXIT };
  return { message: String(err), status: OTHER_EXIT };
}

/** Commander appends suggestions on a new line; the interface promises one line. */
function oneLine(message: string): string {
  return message
    .split('\n')
    .map((s) => s.trim())
    .filter(Boolean)
    .join(' ');
}

/**
 * Aligns rows into columns for human output; the first row is the header.
 *
 * @example table([['ID', 'STATUS'], ['t1', 'enabled']]) // 'ID  STATUS\nt1  enabled'
 */
export function table(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows
    .map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  '))
    .join('\n');
}

/**
 * `key  value` lines with the keys aligned, for one object.
 *
 * @example fields([['client', 't1'], ['status', 'enabled']])
 */
export function fields(pairs: readonly (readonly [string, string])[]): string {
  const width = Math.max(0, ...pairs.map(([k]) => k.length));
  return pairs.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n');
}
