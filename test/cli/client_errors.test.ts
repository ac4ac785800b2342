import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliDirs, cliDirs, expectOneError, spawnTimeout, THERMOSTAT_SCOPE } from './fixture.js';

describe('latchkey client: bad input exits non-zero with one line and changes nothing', { timeout: spawnTimeout(4) }, () => {
  let cli: CliDirs;
  beforeAll(async () => {
    cli = cliDirs();
    await cli.json('client', 'create', 'thermostat-1', '--scope', THERMOSTAT_SCOPE);
    await cli.json('client', 'create', 'cert-only', '--scope', 'mqtt:publish:c', '--auth-method', 'tls_client_auth');
  }, spawnTimeout(2));
  afterAll(() => cli.remove());

  const cases: { name: string; args: string[]; status: number }[] = [
    { name: 'invalid id', args: ['client', 'create', 'bad id!', '--scope', 'mqtt:publish:a'], status: 2 },
    { name: 'id too long', args: ['client', 'create', 'x'.repeat(65), '--scope', 'mqtt:publish:a'], status: 2 },
    { name: 'invalid scope', args: ['client', 'create', 'new-1', '--scope', 'mqtt:publish:a/#/b'], status: 2 },
    { name: 'unknown scope kind', args: ['client', 'create', 'new-1', '--scope', 'read:everything'], status: 2 },
    { name: 'empty scope', args: ['client', 'create', 'new-1', '--scope', ''], status: 2 },
    { name: 'blank scope on set-scope', args: ['client', 'set-scope', 'thermostat-1', '--scope', '  '], status: 2 },
    { name: 'bad token ttl', args: ['client', 'create', 'new-1', '--scope', 'mqtt:publish:a', '--token-ttl', '10 minutes'], status: 2 },
    { name: 'zero token ttl', args: ['client', 'create', 'new-1', '--scope', 'mqtt:publish:a', '--token-ttl', '0'], status: 2 },
    { name: 'unknown auth method', args: ['client', 'create', 'new-1', '--scope', 'mqtt:publish:a', '--auth-method', 'magic'], status: 2 },
    { name: 'duplicate id', args: ['client', 'create', 'thermostat-1', '--scope', 'mqtt:publish:a'], status: 4 },
    { name: 'missing --scope', args: ['client', 'create', 'new-1'], status: 2 },
    { name: 'missing id', args: ['client', 'show'], status: 2 },
    { name: 'extra argument', args: ['client', 'show', 'thermostat-1', 'extra'], status: 2 },
    { name: 'unknown option', args: ['client', 'list', '--colour'], status: 2 },
    { name: 'unknown command', args: ['client', 'frobnicate'], status: 2 },
    { name: 'unknown top-level command', args: ['frobnicate'], status: 2 },
    { name: 'missing subcommand', args: ['client'], status: 2 },
    { name: 'unknown client: show', args: ['client', 'show', 'nobody'], status: 3 },
    { name: 'unknown client: set-scope', args: ['client', 'set-scope', 'nobody', '--scope', 'mqtt:publish:a'], status: 3 },
    { name: 'unknown client: rotate-secret', args: ['client', 'rotate-secret', 'nobody'], status: 3 },
    { name: 'unknown client: disable', args: ['client', 'disable', 'nobody'], status: 3 },
    { name: 'unknown client: enable', args: ['client', 'enable', 'nobody'], status: 3 },
    { name: 'unknown client: delete', args: ['client', 'delete', 'nobody'], status: 3 },
    { name: 'invalid scope on set-scope', args: ['client', 'set-scope', 'thermostat-1', '--scope', 'mqtt:subscribe:a/b#'], status: 2 },
    { name: 'bad grace', args: ['client', 'rotate-secret', 'thermostat-1', '--grace', '-1h'], status: 2 },
    { name: 'no secret to rotate', args: ['client', 'rotate-secret', 'cert-only'], status: 2 },
  ];

  // Each case leaves the database as it found it, so they may run side by side.
  it.concurrent.each(cases)('$name -> exit $status', async ({ args, status }) => {
    const before = cli.snapshot();
    expectOneError(await cli.run(...args), status);
    expect(cli.snapshot()).toBe(before);
  });

  it('never prints a stack trace', async () => {
    const result = await cli.run('client', 'create', 'thermostat-1', '--scope', 'mqtt:publish:a');
    expect(result.stderr).toBe('error: "thermostat-1" already exists\n');
  });
});

describe('credential lifetimes: a unit is required, and under 30 s needs --force', () => {
  let cli: CliDirs;
  beforeAll(() => {
    cli = cliDirs();
  });
  afterAll(() => cli.remove());

  it('client create --token-ttl 5 asks "5 what?"; 10s needs --force; with it, 10s it is', async () => {
    const unitless = await cli.run('client', 'create', 'ttl-1', '--scope', 'mqtt:publish:a', '--token-ttl', '5');
    expectOneError(unitless, 2);
    expect(unitless.stderr).toContain('5 what? use 5m');
    const short = await cli.run('client', 'create', 'ttl-1', '--scope', 'mqtt:publish:a', '--token-ttl', '10s');
    expectOneError(short, 2);
    expect(short.stderr).toMatch(/under 30s.*--force/);
    expect((await cli.json('client', 'create', 'ttl-1', '--scope', 'mqtt:publish:a', '--token-ttl', '10s', '--force')).client_id).toBe('ttl-1');
    expect((await cli.json('client', 'show', 'ttl-1')).token_ttl).toBe(10);
    expect((await cli.json('client', 'create', 'ttl-2', '--scope', 'mqtt:publish:a', '--token-ttl', '30s')).client_id).toBe('ttl-2');
  });

  it('pat create --expires-in under 30 s needs --force; grace periods may be 0', async () => {
    await cli.json('user', 'create', 'ttl-user', '--scope', 'admin:read');
    expectOneError(await cli.run('pat', 'create', 'ttl-user', '--name', 'n', '--scope', 'admin:read', '--expires-in', '20s'), 2);
    expectOneError(await cli.run('pat', 'create', 'ttl-user', '--name', 'n', '--scope', 'admin:read', '--expires-in', '20'), 2);
    expect((await cli.json('pat', 'create', 'ttl-user', '--name', 'n', '--scope', 'admin:read', '--expires-in', '20s', '--force')).id).toMatch(/^pat_/);
    expect((await cli.json('client', 'rotate-secret', 'ttl-2', '--grace', '0')).client_id).toBe('ttl-2');
  });
});
