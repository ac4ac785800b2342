import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliDirs, cliDirs, expectOneError, parseLines, spawnTimeout } from './fixture.js';

const SCOPE = 'mqtt:publish:dev/{client_id}/#';

describe('latchkey client set-auth-method', { timeout: spawnTimeout(5) }, () => {
  let cli: CliDirs;
  let jwkFile = '';
  beforeAll(() => {
    cli = cliDirs();
    jwkFile = join(cli.root, 'pub.jwk');
    writeFileSync(jwkFile, JSON.stringify(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' })));
  });
  afterAll(() => cli.remove());

  /** Rows of client_secrets for a client: proves a secret is really gone, not merely hidden. */
  function storedSecrets(id: string): number {
    const db = new Database(join(cli.dataDir, 'latchkey.db'), { readonly: true });
    try {
      return db.prepare('SELECT COUNT(*) FROM client_secrets WHERE client_id = ?').pluck().get(id) as number;
    } finally {
      db.close();
    }
  }

  it('basic ↔ post changes only the label and keeps the secret: {client_id, auth_method}', async () => {
    await cli.json('client', 'create', 'dev-1', '--scope', SCOPE);
    const moved = await cli.json('client', 'set-auth-method', 'dev-1', 'client_secret_post');
    expect(moved).toEqual({ client_id: 'dev-1', auth_method: 'client_secret_post', client_secret: null, secret: 'kept' });
    expect(await cli.json('client', 'show', 'dev-1')).toMatchObject({ auth_method: 'client_secret_post', secrets: [{ expires_at: null }] });
    expect(storedSecrets('dev-1')).toBe(1);
  });

  it('moving to tls_client_auth deletes the secrets (grace ones too), and says so', async () => {
    await cli.json('client', 'rotate-secret', 'dev-1', '--grace', '1h');
    expect(storedSecrets('dev-1')).toBe(2);
    const human = await cli.run('client', 'set-auth-method', 'dev-1', 'tls_client_auth');
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/now authenticates with tls_client_auth/);
    expect(human.stdout).toMatch(/secrets were deleted/);
    expect(storedSecrets('dev-1')).toBe(0);
    expect(await cli.json('client', 'show', 'dev-1')).toMatchObject({ auth_method: 'tls_client_auth', secrets: [] });
  });

  it('moving back to a secret method issues a fresh secret, shown once', async () => {
    const moved = await cli.json('client', 'set-auth-method', 'dev-1', 'client_secret_basic');
    expect(moved).toMatchObject({ client_id: 'dev-1', auth_method: 'client_secret_basic', secret: 'issued' });
    expect(moved.client_secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(storedSecrets('dev-1')).toBe(1);
    // Shown once: never again in show.
    expect(JSON.stringify(await cli.json('client', 'show', 'dev-1'))).not.toContain(moved.client_secret as string);
  });

  it('private_key_jwt needs --jwk; --jwk is only for private_key_jwt; both refusals change nothing', async () => {
    const before = cli.snapshot();
    expectOneError(await cli.run('client', 'set-auth-method', 'dev-1', 'private_key_jwt'), 2);
    expectOneError(await cli.run('client', 'set-auth-method', 'dev-1', 'tls_client_auth', '--jwk', jwkFile), 2);
    expectOneError(await cli.run('client', 'set-auth-method', 'dev-1', 'password'), 2);
    expectOneError(await cli.run('client', 'set-auth-method', 'nobody', 'tls_client_auth'), 3);
    expect(cli.snapshot()).toBe(before);
  });

  it('moves to private_key_jwt with a public key, and away from it forgets the key', async () => {
    const moved = await cli.json('client', 'set-auth-method', 'dev-1', 'private_key_jwt', '--jwk', jwkFile);
    expect(moved).toEqual({ client_id: 'dev-1', auth_method: 'private_key_jwt', client_secret: null, secret: 'deleted' });
    expect(storedSecrets('dev-1')).toBe(0);
    const db = () => new Database(join(cli.dataDir, 'latchkey.db'), { readonly: true });
    const keyOf = () => {
      const d = db();
      try {
        return d.prepare("SELECT public_jwk FROM clients WHERE id = 'dev-1'").pluck().get() as string | null;
      } finally {
        d.close();
      }
    };
    expect(JSON.parse(keyOf()!)).toMatchObject({ kty: 'EC', crv: 'P-256' });
    expect(await cli.json('client', 'set-auth-method', 'dev-1', 'tls_client_auth')).toMatchObject({ secret: 'none' });
    expect(keyOf()).toBeNull();
  });

  it('repeating the current method changes nothing that matters: tokens stay valid', async () => {
    const again = await cli.json('client', 'set-auth-method', 'dev-1', 'tls_client_auth');
    expect(again).toEqual({ client_id: 'dev-1', auth_method: 'tls_client_auth', client_secret: null, secret: 'none' });
  });

  it('every change is audited with actor, from, to and what became of the secret', async () => {
    const result = await cli.run('audit', '--client', 'dev-1', '--json');
    expect(result.code).toBe(0);
    const changes = parseLines(result.stdout).filter((e) => e.event === 'client.auth_method_changed');
    // Every move but basic <-> post voids the tokens issued before it (tokens_before).
    const voided = { tokens_before: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) };
    expect(changes.map((e) => e.detail)).toEqual([
      { actor: 'cli', from: 'tls_client_auth', to: 'tls_client_auth', secret: 'none' },
      { actor: 'cli', from: 'private_key_jwt', to: 'tls_client_auth', secret: 'none', ...voided },
      { actor: 'cli', from: 'client_secret_basic', to: 'private_key_jwt', secret: 'deleted', public_key: 'replaced', ...voided },
      { actor: 'cli', from: 'tls_client_auth', to: 'client_secret_basic', secret: 'issued', ...voided },
      { actor: 'cli', from: 'client_secret_post', to: 'tls_client_auth', secret: 'deleted', ...voided },
      { actor: 'cli', from: 'client_secret_basic', to: 'client_secret_post', secret: 'kept' },
    ]);
  });
});

describe('errors that say what to do', { timeout: spawnTimeout(5) }, () => {
  let cli: CliDirs;
  beforeAll(() => {
    cli = cliDirs();
  });
  afterAll(() => cli.remove());

  it('cert issue for an unknown client suggests registering it first', async () => {
    const result = await cli.run('cert', 'issue', 'cam-9', '--out', join(cli.root, 'out'));
    expectOneError(result, 3);
    expect(result.stderr).toContain('latchkey client create cam-9 --scope');
  });
});
