import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { formatPretty } from '../../src/log/pretty.js';
import { CLI, tempDir } from '../helpers/cli.js';
import { eventually } from '../helpers/mqtt.js';

const REPO = resolve(import.meta.dirname, '../..');

/** Every live descendant of `pid`, from /proc (children before grandchildren). */
function descendants(pid: number): number[] {
  const parentOf = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // Field 4 of /proc/<pid>/stat is the parent; the command name (field 2) may hold spaces, so split after its ')'.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      parentOf.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {}
  }
  const found: number[] = [];
  let frontier = [pid];
  while (frontier.length > 0) {
    const next = [...parentOf].filter(([, parent]) => frontier.includes(parent)).map(([child]) => child);
    found.push(...next);
    frontier = next;
  }
  return found;
}

function alive(pid: number): boolean {
  if (!existsSync(`/proc/${pid}`)) return false;
  try {
    // A zombie has exited and only waits for its parent to read the status.
    return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

interface Started {
  child: ChildProcess;
  lines: string[];
  exited: Promise<number | null>;
  http: number;
}

/** Spawns `command`, collects stdout lines and resolves once the server says it is listening. */
function startAndWait(command: string, args: string[], listening: (line: string) => number | null, cwd = REPO): Promise<Started> {
  const env = { ...process.env };
  delete env.LATCHKEY_LOG_FORMAT;
  const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], env });
  const lines: string[] = [];
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
  return new Promise((done, fail) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      lines.push(line);
      const http = listening(line);
      if (http !== null) done({ child, lines, exited, http });
    });
    void exited.then((code) => fail(new Error(`${command} exited ${code} before listening: ${stderr}`)));
  });
}

function jsonListening(line: string): number | null {
  try {
    const entry = JSON.parse(line) as { msg?: string; ports?: { http: number } };
    return entry.msg === 'latchkey listening' && entry.ports ? entry.ports.http : null;
  } catch {
    return null;
  }
}

async function healthy(port: number): Promise<boolean> {
  try {
    return (await fetch(`http://127.0.0.1:${port}/healthz`)).ok;
  } catch {
    return false;
  }
}

const serverArgs = (root: string) => [
  'start', '--data-dir', join(root, 'data'), '--certs-dir', join(root, 'certs'), '--host', '127.0.0.1',
  '--http-port', '0', '--https-port', '0', '--mqtt-port', '0', '--mqtts-port', '0', '--ws-port', '0', '--wss-port', '0', '--log-level', 'info',
];

describe('process hygiene', () => {
  const roots: string[] = [];
  const root = () => {
    const dir = tempDir('latchkey-proc-');
    roots.push(dir);
    return dir;
  };
  const started: ChildProcess[] = [];
  const trees: number[] = [];
  afterAll(() => {
    for (const child of started) if (child.exitCode === null && child.pid) child.kill('SIGKILL');
    // Should the test fail, what it started must not outlive it: by PID, only ours.
    for (const pid of trees) if (alive(pid)) process.kill(pid, 'SIGKILL');
    for (const dir of roots) rmSync(dir, { recursive: true, force: true });
  });

  it('npm start: SIGTERM to its PID stops the server too (no orphan) and logs a shutdown line', async () => {
    const dir = root();
    // npm passes the arguments after -- to the start script.
    const npm = await startAndWait('npm', ['start', '--silent', '--', ...serverArgs(dir).slice(1)], jsonListening);
    started.push(npm.child);
    const tree = descendants(npm.child.pid!);
    trees.push(...tree);
    expect(tree.length).toBeGreaterThan(0);
    expect(await healthy(npm.http)).toBe(true);

    npm.child.kill('SIGTERM');
    await npm.exited;
    await eventually(() => tree.every((pid) => !alive(pid)), 15_000, 'every process npm start made to exit');
    expect(await healthy(npm.http)).toBe(false);
    const messages = npm.lines.flatMap((l) => {
      try {
        return [JSON.parse(l) as { msg: string; signal?: string }];
      } catch {
        return [];
      }
    });
    expect(messages).toContainEqual(expect.objectContaining({ msg: 'latchkey shutting down', signal: 'SIGTERM' }));
    expect(messages).toContainEqual(expect.objectContaining({ msg: 'latchkey stopped' }));
  }, 120_000);

  it('SIGINT (^C) logs the shutdown and exits 0; --log-format pretty writes lines for people', async () => {
    const dir = root();
    const server = await startAndWait(process.execPath, [CLI, ...serverArgs(dir), '--log-format', 'pretty'], (line) => {
      const match = /^\d\d:\d\d:\d\d\.\d{3} INFO  latchkey listening ports=(\{.*?\})/.exec(line);
      return match ? (JSON.parse(match[1]!) as { http: number }).http : null;
    });
    started.push(server.child);
    server.child.kill('SIGINT');
    expect(await server.exited).toBe(0);
    expect(server.lines).toContainEqual(expect.stringMatching(/^\d\d:\d\d:\d\d\.\d{3} INFO  latchkey shutting down signal=SIGINT$/));
    expect(server.lines.every((l) => !l.startsWith('{'))).toBe(true);
  }, 60_000);

  it('refuses a unitless --token-ttl and one under 30 s without --force, before starting anything', async () => {
    const { runCli } = await import('../helpers/cli.js');
    const dir = root();
    const unitless = await runCli([...serverArgs(dir), '--token-ttl', '5']);
    expect(unitless.code).toBe(2);
    expect(unitless.stderr).toMatch(/^error: --token-ttl "5": 5 what\? use 5m/);
    const short = await runCli([...serverArgs(dir), '--token-ttl', '10s']);
    expect(short.code).toBe(2);
    expect(short.stderr).toMatch(/under 30s.*--force/);
    const badFormat = await runCli([...serverArgs(dir), '--log-format', 'xml']);
    expect(badFormat.code).toBe(2);
    expect(existsSync(join(dir, 'data'))).toBe(false);
  });

  it('formatPretty: time, level, message, then key=value; JSON-quotes what is not a plain word', () => {
    const line = JSON.stringify({ level: 40, time: Date.UTC(2026, 0, 2, 3, 4, 5, 6), service: 'latchkey', msg: 'refused', client: 't1', reason: 'bad token', n: 3 });
    expect(formatPretty(line)).toBe('03:04:05.006 WARN  refused client=t1 reason="bad token" n=3');
    expect(formatPretty('not json')).toBe('not json');
  });
});
