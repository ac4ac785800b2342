import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startChildServer, type ChildServer } from '../helpers/child_server.js';
import { CLI } from '../helpers/cli.js';
import { haveTools } from '../helpers/tools.js';

/**
 * The docs that run: every ```sh block of these documents, in order, pasted
 * into one fresh `bash -euo pipefail` per document, against a real latchkey
 * started for that document on free ports in a temporary directory.
 *
 * The blocks run exactly as written, with two documented substitutions:
 * - the default ports 8080, 8443, 1883, 8883, 8083 and 8084 become the test server's;
 * - `npx latchkey` is this checkout's built CLI (a PATH shim for `npx`),
 *   with LATCHKEY_DATA_DIR, LATCHKEY_CERTS_DIR and the LATCHKEY_*_PORT
 *   variables set to the server's, as the shell of an operator whose server
 *   does not run on the defaults would be (`claim create` names the ports
 *   in the onboarding string it prints).
 * The shell runs in the repository root, as a reader's would; HOME and
 * TMPDIR point into the test's temporary directory. A block preceded by
 * `<!-- docs-test: skip (why) -->` is not run (it starts a server, runs the
 * test suite, or never returns), and the test's name lists it.
 */
const REPO = resolve(import.meta.dirname, '../..');
const DOCUMENTS = ['README.md', 'docs/CREDENTIALS.md', 'docs/CERTIFICATES.md', 'docs/ONBOARDING.md', 'docs/CONSOLE.md', 'docs/STOCK-DEVICES.md'] as const;
const DEFAULT_PORTS = { http: 8080, https: 8443, mqtt: 1883, mqtts: 8883, ws: 8083, wss: 8084 } as const;

export interface ShellBlock {
  /** 1-based line of the opening fence. */
  line: number;
  code: string;
  /** The reason given in a `docs-test: skip` comment right before the block, else null. */
  skip: string | null;
}

/**
 * The ```sh fenced blocks of a markdown text, in order. A block is skipped
 * when the last non-blank line before its fence is `<!-- docs-test: skip (why) -->`.
 *
 * @example shellBlocks('<!-- docs-test: skip (starts the server) -->\n```sh\nnpm start\n```')
 * // [{ line: 2, code: 'npm start\n', skip: 'starts the server' }]
 */
export function shellBlocks(markdown: string): ShellBlock[] {
  const lines = markdown.split('\n');
  const blocks: ShellBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(```+)\s*(\S*)\s*$/.exec(lines[i]!);
    if (!open) continue;
    const fence = open[2]!;
    const lang = open[3]!;
    let end = i + 1;
    while (end < lines.length && lines[end]!.trim() !== fence) end++;
    if (lang === 'sh') {
      let before = i - 1;
      while (before >= 0 && lines[before]!.trim() === '') before--;
      const marker = before >= 0 ? /^<!--\s*docs-test:\s*skip\s*\((.+)\)\s*-->$/.exec(lines[before]!.trim()) : null;
      blocks.push({ line: i + 1, code: `${lines.slice(i + 1, end).join('\n')}\n`, skip: marker ? marker[1]! : null });
    }
    i = end;
  }
  return blocks;
}

/** The default ports, as whole numbers, become the test server's. */
function withPorts(code: string, ports: ChildServer['ports']): string {
  let out = code;
  for (const [name, port] of Object.entries(DEFAULT_PORTS)) {
    out = out.replace(new RegExp(`\\b${port}\\b`, 'g'), String(ports[name as keyof typeof DEFAULT_PORTS]));
  }
  return out;
}

/** Directories of the checkout a docs block has no business writing into, and too big to list. */
const UNLISTED = new Set(['node_modules', '.git', 'dist']);

/** Every file and directory in the checkout (git-ignored ones included), relative to it. */
function repositoryEntries(dir = REPO, prefix = ''): Set<string> {
  const entries = new Set<string>();
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (prefix === '' && UNLISTED.has(entry.name)) continue;
    const path = `${prefix}${entry.name}`;
    entries.add(path);
    if (entry.isDirectory()) for (const inner of repositoryEntries(join(dir, entry.name), `${path}/`)) entries.add(inner);
  }
  return entries;
}

function runBash(script: string, cwd: string, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn('bash', ['-euo', 'pipefail', '-c', script], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    // A block that never returns must not hang the suite: end the whole process group.
    const timer = setTimeout(() => {
      stderr += `\n(test: killed after ${timeoutMs} ms)`;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    }, timeoutMs);
    child.on('error', fail);
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr });
    });
  });
}

const work = mkdtempSync(join(tmpdir(), 'latchkey-docs-'));
const shims = join(work, 'bin');
mkdirSync(shims);
// `npx latchkey …` is this checkout's CLI; any other npx use in the docs is a mistake the test should show.
writeFileSync(
  join(shims, 'npx'),
  `#!/bin/sh\nif [ "$1" != latchkey ]; then echo "docs test: only 'npx latchkey' is shimmed, got: npx $*" >&2; exit 127; fi\nshift\nexec '${process.execPath}' '${CLI}' "$@"\n`,
);
chmodSync(join(shims, 'npx'), 0o755);
const servers: ChildServer[] = [];

afterAll(async () => {
  for (const server of servers) {
    server.child.kill('SIGTERM');
    await server.exited;
  }
  rmSync(work, { recursive: true, force: true });
});

it('finds the sh blocks of a document and their skip markers', () => {
    const blocks = shellBlocks('text\n<!-- docs-test: skip (starts the server) -->\n\n```sh\nnpm start\n```\n```js\nx()\n```\n```sh\necho 1\necho 2\n```\n');
  expect(blocks).toEqual([
    { line: 4, code: 'npm start\n', skip: 'starts the server' },
    { line: 10, code: 'echo 1\necho 2\n', skip: null },
  ]);
});

const tools = haveTools('bash', 'curl', 'openssl', 'mosquitto_pub', 'mosquitto_sub');

describe.skipIf(!tools)('documentation shell blocks run as written (skipped without curl, openssl, mosquitto-clients)', () => {
  for (const doc of DOCUMENTS) {
    const blocks = shellBlocks(readFileSync(join(REPO, doc), 'utf8'));
    const skipped = blocks.filter((b) => b.skip !== null);
    const skippedNote = skipped.length === 0 ? 'none skipped' : `skipped: ${skipped.map((b) => `line ${b.line} (${b.skip})`).join(', ')}`;

    it.concurrent(`${doc}: ${blocks.length - skipped.length} sh blocks run top to bottom in one shell (${skippedNote})`, { timeout: 90_000 }, async () => {
      const runnable = blocks.filter((b) => b.skip === null);
      expect(runnable.length).toBeGreaterThan(0);
      const dir = mkdtempSync(join(work, doc.replace(/\W/g, '_')));
      const home = join(dir, 'home');
      const tmp = join(dir, 'tmp');
      mkdirSync(home);
      mkdirSync(tmp);
      const dataDir = join(dir, 'data');
      const certsDir = join(dir, 'certs');
      const server = await startChildServer(dataDir, certsDir);
      servers.push(server);

      const script = [
        // Background subscribers a block leaves running end with the shell.
        "trap 'kill $(jobs -p) 2>/dev/null || true' EXIT",
        ...runnable.map((b) => `echo "docs test: ${doc}:${b.line}" >&2\n${withPorts(b.code, server.ports)}`),
      ].join('\n');
      const env: NodeJS.ProcessEnv = {};
      for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('LATCHKEY_')) env[k] = v;
      Object.assign(env, {
        PATH: `${shims}:${process.env.PATH ?? ''}`,
        HOME: home,
        TMPDIR: tmp,
        LATCHKEY_DATA_DIR: dataDir,
        LATCHKEY_CERTS_DIR: certsDir,
        LATCHKEY_HTTP_PORT: String(server.ports.http),
        LATCHKEY_HTTPS_PORT: String(server.ports.https),
        LATCHKEY_MQTT_PORT: String(server.ports.mqtt),
        LATCHKEY_MQTTS_PORT: String(server.ports.mqtts),
        LATCHKEY_WS_PORT: String(server.ports.ws),
        LATCHKEY_WSS_PORT: String(server.ports.wss),
      });

      const before = repositoryEntries();
      const result = await runBash(script, REPO, env, 75_000);
      const failedAt = [...result.stderr.matchAll(/docs test: (\S+)/g)].at(-1)?.[1] ?? '(before the first block)';
      expect(result.code, `the block at ${failedAt} failed:\n${result.stderr.slice(-3000)}\n--- stdout ---\n${result.stdout.slice(-2000)}`).toBe(0);
      // Keys and outputs go to a temporary directory, never into the repository.
      const added = [...repositoryEntries()].filter((f) => !before.has(f));
      expect(added, 'files the blocks wrote into the repository').toEqual([]);
    });
  }
});
