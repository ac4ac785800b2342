import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { type CliResult, runCli, tempDir } from '../helpers/cli.js';
import Database from 'better-sqlite3';
import { expect } from 'vitest';
import { Store } from '../../src/store/store.js';

export { CLI, type CliResult, runCli, spawnTimeout, tempDir } from '../helpers/cli.js';

/** The hub/thermostat example of the README. */
export const THERMOSTAT_SCOPE = 'mqtt:publish:home/{client_id}/telemetry mqtt:subscribe:home/{client_id}/setpoint';
export const HUB_SCOPE = 'mqtt:subscribe:home/+/telemetry mqtt:publish:home/+/setpoint';

export interface CliDirs {
  root: string;
  dataDir: string;
  certsDir: string;
  /** Runs the built CLI with this fixture's --data-dir and --certs-dir after the arguments. */
  run(...args: string[]): Promise<CliResult>;
  /** Runs with --json, expects exit 0 and exactly one JSON object on stdout. */
  json(...args: string[]): Promise<Record<string, unknown>>;
  /** Every row of every table, to prove a command changed nothing. */
  snapshot(): string;
  remove(): void;
}

/**
 * A fresh data and certs directory, driven only through the CLI. The
 * database exists (the CLI refuses to work without one, as after a
 * forgotten `latchkey init`); `{ database: false }` leaves it out.
 */
export function cliDirs(opts: { database?: boolean } = {}): CliDirs {
  const root = tempDir('latchkey-cli-');
  const dataDir = join(root, 'data');
  const certsDir = join(root, 'certs');
  if (opts.database !== false) {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    Store.open(join(dataDir, 'latchkey.db')).close();
  }
  const run = (...args: string[]) => runCli([...args, '--data-dir', dataDir, '--certs-dir', certsDir]);
  return {
    root,
    dataDir,
    certsDir,
    run,
    async json(...args) {
      const result = await run(...args, '--json');
      expect(result.stderr, `stderr of ${args.join(' ')}`).toBe('');
      expect(result.code, `exit of ${args.join(' ')}`).toBe(0);
      return parseOneObject(result.stdout);
    },
    snapshot: () => dumpDatabase(join(dataDir, 'latchkey.db')),
    remove: () => rmSync(root, { recursive: true, force: true }),
  };
}

/** `--json` prints exactly one line holding one object. */
export function parseOneObject(stdout: string): Record<string, unknown> {
  const lines = stdout.split('\n').filter((l) => l !== '');
  expect(lines).toHaveLength(1);
  const value: unknown = JSON.parse(lines[0]!);
  expect(value).toBeTypeOf('object');
  return value as Record<string, unknown>;
}

/** JSON Lines: one object per line. */
export function parseLines(stdout: string): Record<string, unknown>[] {
  return stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** A failing command: the exit status, one `error: …` line on stderr, nothing on stdout. */
export function expectOneError(result: CliResult, status: number): void {
  expect(result.stdout).toBe('');
  const lines = result.stderr.split('\n').filter((l) => l !== '');
  expect(lines, result.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^error: \S/);
  expect(result.code).toBe(status);
}

/** Every row of every table, read-only, as text. */
export function dumpDatabase(file: string): string {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all() as string[];
    return tables.map((t) => `${t}: ${JSON.stringify(db.prepare(`SELECT * FROM "${t}"`).all())}`).join('\n');
  } finally {
    db.close();
  }
}
