import { chmodSync, chownSync, mkdirSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { startChildServer } from '../helpers/child_server.js';
import { runCli, tempDir } from '../helpers/latchkey.js';

const roots: string[] = [];
afterAll(() => roots.forEach((root) => rmSync(root, { recursive: true, force: true })));

const mode = (path: string) => statSync(path).mode & 0o7777;

/** Every file under `dir`, recursively. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)]));
}

/** An initialised deployment whose modes an old version, a restore or a careless `cp -r` loosened. */
async function loosened(): Promise<{ dataDir: string; certsDir: string }> {
  const root = tempDir();
  roots.push(root);
  const dataDir = join(root, 'data');
  const certsDir = join(root, 'certs');
  expect((await runCli(['--data-dir', dataDir, '--certs-dir', certsDir, 'init', '--json'])).code).toBe(0);
  mkdirSync(join(dataDir, 'backups'), { mode: 0o755 });
  writeFileSync(join(dataDir, 'backups', 'old.db'), 'x', { mode: 0o644 });
  writeFileSync(join(dataDir, 'notes.txt'), 'x', { mode: 0o644 });
  for (const file of filesUnder(dataDir)) chmodSync(file, 0o644);
  chmodSync(join(dataDir, 'backups'), 0o755);
  chmodSync(dataDir, 0o755);
  for (const file of readdirSync(certsDir)) chmodSync(join(certsDir, file), 0o666);
  chmodSync(certsDir, 0o777);
  return { dataDir, certsDir };
}

function expectPrivate({ dataDir, certsDir }: { dataDir: string; certsDir: string }): void {
  expect(mode(dataDir)).toBe(0o700);
  expect(mode(join(dataDir, 'backups'))).toBe(0o700);
  const files = filesUnder(dataDir);
  expect(files.length).toBeGreaterThanOrEqual(3);
  for (const file of files) expect([file, mode(file)]).toEqual([file, 0o600]);
  expect(mode(certsDir) & 0o022).toBe(0);
  expect(mode(join(certsDir, 'ca.key'))).toBe(0o600);
  expect(mode(join(certsDir, 'server.key'))).toBe(0o600);
  // Certificates are public: readable, but nobody else may replace them.
  expect(mode(join(certsDir, 'ca.crt')) & 0o022).toBe(0);
}

describe('files at rest: modes fixed at init and start', { timeout: 120_000 }, () => {
  test('start on a 0755 data dir with 0644 files: the dir becomes 0700, every file (db, -wal, -shm, others) 0600, keys 0600', async () => {
    const dirs = await loosened();
    const server = await startChildServer(dirs.dataDir, dirs.certsDir);
    try {
      // The running server has the database open in WAL mode: its -wal and -shm exist now.
      expect(readdirSync(dirs.dataDir)).toEqual(expect.arrayContaining(['latchkey.db', 'latchkey.db-wal', 'latchkey.db-shm']));
      expectPrivate(dirs);
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }
  });

  test('init does the same on an existing deployment', async () => {
    const dirs = await loosened();
    const result = await runCli(['--data-dir', dirs.dataDir, '--certs-dir', dirs.certsDir, 'init', '--json']);
    expect(result.code).toBe(0);
    expectPrivate(dirs);
  });

  test('a database `latchkey init` creates is 0600 from the start, whatever the umask (other commands refuse a missing one)', async () => {
    const root = tempDir();
    roots.push(root);
    const dataDir = join(root, 'fresh');
    expect((await runCli(['--data-dir', dataDir, '--certs-dir', join(root, 'certs'), 'client', 'list', '--json'])).code).toBe(8);
    const result = await runCli(['--data-dir', dataDir, '--certs-dir', join(root, 'certs'), 'init', '--json']);
    expect(result.code).toBe(0);
    expect(mode(dataDir)).toBe(0o700);
    for (const file of filesUnder(dataDir)) expect([file, mode(file)]).toEqual([file, 0o600]);
  });
});

describe('files at rest: refusal when the modes cannot be fixed', { timeout: 120_000 }, () => {
  const isRoot = process.getuid?.() === 0;

  test('a data dir owned by another user: start and init exit 5 with one clear line, and the server never listens', async () => {
    const root = tempDir();
    roots.push(root);
    // As root, give the directory away; otherwise a root-owned system directory is someone else's already.
    const dataDir = isRoot ? join(root, 'data') : '/usr/share';
    if (isRoot) {
      mkdirSync(dataDir, { mode: 0o755 });
      chownSync(dataDir, 65534, 65534);
    }
    const certsDir = join(root, 'certs');
    for (const command of ['start', 'init']) {
      const args = ['--data-dir', dataDir, '--certs-dir', certsDir, command];
      if (command === 'start') args.push('--http-port', '0', '--https-port', '0', '--mqtt-port', '0', '--mqtts-port', '0', '--ws-port', '0', '--wss-port', '0', '--host', '127.0.0.1');
      const result = await runCli(args);
      expect(result.code, command).toBe(5);
      expect(result.stderr, command).toMatch(/^error: .* is owned by uid \d+, not by the user running latchkey/);
      expect(result.stdout, command).not.toMatch(/latchkey listening/);
    }
    if (isRoot) {
      expect(readdirSync(dataDir)).toEqual([]);
      expect(mode(dataDir)).toBe(0o755);
    }
  });

  test('a symbolic link inside the data dir is refused (it could point anywhere)', async () => {
    const dirs = await loosened();
    symlinkSync('/etc/hostname', join(dirs.dataDir, 'elsewhere'));
    const result = await runCli(['--data-dir', dirs.dataDir, '--certs-dir', dirs.certsDir, 'init']);
    expect(result.code).toBe(5);
    expect(result.stderr).toMatch(/^error: .*elsewhere is a symbolic link/);
  });
});
