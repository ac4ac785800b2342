import { existsSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serverNames } from '../../src/pki/server_names.js';
import { cliDirs, type CliDirs, expectOneError, parseOneObject, runCli, spawnTimeout, tempDir } from './fixture.js';

describe('latchkey global options and init', { timeout: spawnTimeout(5) }, () => {
  let cli: CliDirs;
  const scratch: string[] = [];
  const scratchDir = () => {
    const dir = tempDir();
    scratch.push(dir);
    return dir;
  };
  beforeAll(() => {
    cli = cliDirs({ database: false });
  });
  afterAll(() => {
    cli.remove();
    for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
  });

  it('init creates everything once, then finds it (idempotent)', async () => {
    const first = await cli.json('init');
    expect(Object.keys(first).sort()).toEqual(['ca_cert', 'certs_dir', 'created', 'data_dir', 'database', 'server_cert', 'signing_kid', 'tls_names']);
    expect(first.created).toEqual(['database', 'signing key', 'CA', 'server certificate']);
    expect(first.database).toBe(join(cli.dataDir, 'latchkey.db'));
    for (const file of [first.database, first.ca_cert, first.server_cert]) expect(existsSync(file as string)).toBe(true);
    // This machine's names, as the server certificate covers them by default.
    expect(first.tls_names).toEqual(expect.arrayContaining([...serverNames(undefined, hostname(), {}).dns, '127.0.0.1']));
    const second = await cli.json('init');
    expect(second).toEqual({ ...first, created: [] });
  });

  it('--data-dir, --certs-dir and --json work before and after the subcommand', async () => {
    const dirs = ['--data-dir', cli.dataDir, '--certs-dir', cli.certsDir];
    await cli.json('client', 'create', 'opt-1', '--scope', 'mqtt:publish:o');
    const forms = [
      [...dirs, '--json', 'client', 'list'],
      ['--json', 'client', 'list', ...dirs],
      ['client', 'list', '--json', ...dirs],
      [...dirs, 'client', '--json', 'list'],
      ['client', 'show', 'opt-1', ...dirs, '--json'],
    ];
    for (const args of forms) {
      const result = await runCli(args);
      expect(result.code, args.join(' ')).toBe(0);
      expect(result.stdout).toContain('"opt-1"');
      parseOneObject(result.stdout);
    }
  });

  it('LATCHKEY_DATA_DIR and LATCHKEY_CERTS_DIR stand in for the flags; flags win', async () => {
    const env = { LATCHKEY_DATA_DIR: cli.dataDir, LATCHKEY_CERTS_DIR: cli.certsDir };
    const viaEnv = await runCli(['client', 'show', 'opt-1', '--json'], env);
    expect(viaEnv.code).toBe(0);
    expect(parseOneObject(viaEnv.stdout).client_id).toBe('opt-1');
    const other = scratchDir();
    const flagWins = await runCli(['client', 'show', 'opt-1', '--data-dir', other], env);
    // No database in the flag's directory: refused (8), never silently made.
    expectOneError(flagWins, 8);
    expect(existsSync(join(other, 'latchkey.db'))).toBe(false);
  });

  it('defaults to ./data and ./certs under the working directory', async () => {
    const cwd = scratchDir();
    const result = await runCli(['init', '--json'], {}, cwd);
    expect(result.code).toBe(0);
    expect(parseOneObject(result.stdout)).toMatchObject({ data_dir: join(cwd, 'data'), certs_dir: join(cwd, 'certs') });
  });

  it('--help and --version exit 0 on stdout', async () => {
    const help = await runCli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Usage: latchkey/);
    for (const command of ['init', 'start', 'client', 'token', 'keys', 'audit', 'explain']) expect(help.stdout).toContain(`  ${command}`);
    const groupHelp = await runCli(['help', 'client']);
    expect(groupHelp.code).toBe(0);
    expect(groupHelp.stdout).toMatch(/Usage: latchkey client/);
    const version = await runCli(['--version']);
    expect(version.code).toBe(0);
    expect(version.stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
  });

  it('start has a flag for every option of the config table', async () => {
    const { OPTIONS } = await import('../../src/config/options.js');
    const help = await runCli(['start', '--help']);
    expect(help.code).toBe(0);
    for (const spec of OPTIONS) expect(help.stdout).toContain(`--${spec.flag} ${spec.kind === 'boolean' ? '[' : '<'}`);
  });

  it('usage errors are one line and exit 2', async () => {
    expectOneError(await runCli([]), 2);
    expectOneError(await runCli(['--data-dir']), 2);
    expectOneError(await runCli(['--nope', 'client', 'list']), 2);
    expectOneError(await runCli(['start', '--http-port', 'eighty', '--data-dir', cli.dataDir]), 2);
  });
});
