import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

/**
 * The built CLI, `dist/src/cli/main.js`, found from this file whether it
 * runs compiled (dist/device-sim/demo/) or from source (device-sim/demo/);
 * LATCHKEY_CLI overrides it.
 */
export const CLI_PATH =
  process.env.LATCHKEY_CLI ??
  [resolve(import.meta.dirname, '../../src/cli/main.js'), resolve(import.meta.dirname, '../../dist/src/cli/main.js')].find((p) => existsSync(p)) ??
  resolve(import.meta.dirname, '../../dist/src/cli/main.js');

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs one `latchkey` command in a child process against a data and certs
 * directory, as an operator would from a shell. The demo talks to the
 * server only like this and over the network.
 *
 * @example const { stdout } = await runLatchkey(dirs, ['client', 'create', 'hub', '--scope', scope, '--json']);
 */
export function runLatchkey(dirs: { dataDir: string; certsDir: string }, args: string[]): Promise<CliRun> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [CLI_PATH, '--data-dir', dirs.dataDir, '--certs-dir', dirs.certsDir, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code, stdout, stderr }));
  });
}

/**
 * Runs a `--json` command and parses its one JSON object; a non-zero exit
 * throws with the CLI's own error line.
 *
 * @example const { client_secret } = await latchkeyJson<{ client_secret: string }>(dirs, ['client', 'create', 'hub', '--scope', s]);
 */
export async function latchkeyJson<T>(dirs: { dataDir: string; certsDir: string }, args: string[]): Promise<T> {
  const run = await runLatchkey(dirs, [...args, '--json']);
  if (run.code !== 0) throw new Error(`latchkey ${args.slice(0, 2).join(' ')} failed: ${run.stderr.trim() || `exit ${run.code}`}`);
  return JSON.parse(run.stdout) as T;
}
