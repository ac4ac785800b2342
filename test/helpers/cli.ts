import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/**
 * The built CLI (`npm test` builds first). This module imports nothing of
 * the server, so CLI-only tests stay light.
 */
export const CLI = resolve(import.meta.dirname, '../../dist/src/cli/main.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Longest one CLI process (or a child server's start-up) may take here, start
 * to exit. Measured: 0.15 s of CPU each, but 2-4 s wall on the shared 2-core
 * CI machine at load 25; twice the worst seen.
 */
export const SPAWN_BUDGET_MS = 8_000;

/**
 * Test timeout for a test that runs up to `processes` child processes one
 * after another: the default 20 s for the rest of the test plus a budget per
 * process. A timeout is a hang guard, never the bound a test asserts.
 *
 * @example describe('latchkey client', { timeout: spawnTimeout(6) }, () => { ... })
 */
export function spawnTimeout(processes: number): number {
  return 20_000 + processes * SPAWN_BUDGET_MS;
}

/** Runs `node dist/src/cli/main.js ...args` and collects its output. */
export function runCli(args: string[], env: NodeJS.ProcessEnv = {}, cwd?: string): Promise<CliResult> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(cwd ? { cwd } : {}),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', fail);
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

/** A fresh temporary directory; the caller removes it. */
export function tempDir(prefix = 'latchkey-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}
