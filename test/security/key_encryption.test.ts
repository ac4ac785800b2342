import Database from 'better-sqlite3';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterAll, describe, expect, test } from 'vitest';
import { openKey } from '../../src/keys/key_sealing.js';
import { startChildServer } from '../helpers/child_server.js';
import { runCli, tempDir } from '../helpers/latchkey.js';
import { clientCredentialsToken } from '../helpers/token.js';

const PASS = { LATCHKEY_KEY_PASSPHRASE: 'correct horse battery staple' };
const WRONG = { LATCHKEY_KEY_PASSPHRASE: 'incorrect horse' };
const NONE = { LATCHKEY_KEY_PASSPHRASE: '' };

/** Each test runs several CLI processes and servers, each deriving scrypt keys: minutes on a loaded 2-core machine is possible. */
const roots: string[] = [];
afterAll(() => roots.forEach((root) => rmSync(root, { recursive: true, force: true })));

function deployment(): { dataDir: string; certsDir: string; cli(args: string[], env: NodeJS.ProcessEnv): ReturnType<typeof runCli> } {
  const root = tempDir();
  roots.push(root);
  const dataDir = join(root, 'data');
  const certsDir = join(root, 'certs');
  return { dataDir, certsDir, cli: (args, env) => runCli(['--data-dir', dataDir, '--certs-dir', certsDir, ...args], env) };
}

function storedKeys(dataDir: string): { kid: string; private_jwk: string }[] {
  const db = new Database(join(dataDir, 'latchkey.db'), { readonly: true });
  try {
    return db.prepare('SELECT kid, private_jwk FROM signing_keys ORDER BY created_at').all() as { kid: string; private_jwk: string }[];
  } finally {
    db.close();
  }
}

/** A sealed key holds neither a PEM, nor a JWK, nor (checked by opening it) the private scalar `d` in any form. */
async function expectSealed(stored: string, context: string, kind: 'jwk' | 'pem'): Promise<void> {
  expect(stored).not.toMatch(/BEGIN|PRIVATE KEY|"kty"|"d"/);
  expect(JSON.parse(stored)).toMatchObject({ format: 'latchkey-sealed-v1', kdf: 'scrypt' });
  const plain = await openKey(stored, PASS.LATCHKEY_KEY_PASSPHRASE, context);
  if (kind === 'jwk') {
    const d = (JSON.parse(plain) as { d: string }).d;
    expect(d.length).toBeGreaterThan(20);
    expect(stored).not.toContain(d);
  } else {
    expect(plain).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    const body = plain.split('\n')[1]!;
    expect(stored).not.toContain(body);
  }
}

async function tokenWorks(http: number, id: string, secret: string): Promise<string> {
  const base = `http://127.0.0.1:${http}`;
  const { access_token } = await clientCredentialsToken(base, id, secret);
  const jwks = createRemoteJWKSet(new URL(`${base}/.well-known/jwks.json`));
  await jwtVerify(access_token, jwks, { issuer: 'http://latchkey.test' });
  return decodeProtectedHeader(access_token).kid!;
}

describe('signing keys and the CA key encrypted at rest (LATCHKEY_KEY_PASSPHRASE)', { timeout: 120_000 }, () => {
  test('without a passphrase the start-up log says so once, naming the variable', async () => {
    const d = deployment();
    const server = await startChildServer(d.dataDir, d.certsDir, [], NONE);
    try {
      const warnings = server.lines.filter((l) => l.includes('LATCHKEY_KEY_PASSPHRASE'));
      expect(warnings).toHaveLength(1);
      expect(JSON.parse(warnings[0]!)).toMatchObject({ level: 40, env: 'LATCHKEY_KEY_PASSPHRASE' });
      expect(storedKeys(d.dataDir)[0]!.private_jwk).toMatch(/"d":/);
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }
  });

  test('a plaintext deployment is sealed at the first start with a passphrase, and keeps working: tokens, cert issue, keys rotate', async () => {
    const d = deployment();
    expect((await d.cli(['init', '--json'], NONE)).code).toBe(0);
    const created = JSON.parse((await d.cli(['client', 'create', 'sealed-dev', '--scope', 'mqtt:publish:x', '--json'], NONE)).stdout) as { client_secret: string };
    expect(readFileSync(join(d.certsDir, 'ca.key'), 'utf8')).toMatch(/BEGIN PRIVATE KEY/);

    const server = await startChildServer(d.dataDir, d.certsDir, [], PASS);
    try {
      expect(server.lines.some((l) => l.includes('stored unencrypted'))).toBe(false);
      const [key] = storedKeys(d.dataDir);
      await expectSealed(key!.private_jwk, `signing key ${key!.kid}`, 'jwk');
      await expectSealed(readFileSync(join(d.certsDir, 'ca.key'), 'utf8'), 'latchkey CA key', 'pem');
      expect(await tokenWorks(server.ports.http, 'sealed-dev', created.client_secret)).toBe(key!.kid);

      // The CLI signs with the same passphrase: a device certificate, and a new signing key the server picks up.
      const issued = await d.cli(['cert', 'issue', 'sealed-dev', '--out', join(d.dataDir, '..', 'dev'), '--json'], PASS);
      expect(issued.code).toBe(0);
      const rotated = await d.cli(['keys', 'rotate', '--json'], PASS);
      expect(rotated.code).toBe(0);
      const { kid } = JSON.parse(rotated.stdout) as { kid: string };
      const keys = storedKeys(d.dataDir);
      expect(keys).toHaveLength(2);
      await expectSealed(keys[1]!.private_jwk, `signing key ${kid}`, 'jwk');
      // A fresh salt and nonce per key.
      const [a, b] = keys.map((k) => JSON.parse(k.private_jwk) as { salt: string; iv: string });
      expect(a!.salt).not.toBe(b!.salt);
      expect(a!.iv).not.toBe(b!.iv);
      const deadline = Date.now() + 15_000;
      let current = '';
      while (Date.now() < deadline && (current = await tokenWorks(server.ports.http, 'sealed-dev', created.client_secret)) !== kid) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(current).toBe(kid);

      // Without the passphrase, or with a wrong one, the CLI refuses to sign and changes nothing.
      for (const env of [NONE, WRONG]) {
        const refused = await d.cli(['keys', 'rotate', '--json'], env);
        expect(refused.code).toBe(5);
        expect(refused.stderr).toMatch(/^error: .*LATCHKEY_KEY_PASSPHRASE/);
        const noCert = await d.cli(['cert', 'issue', 'sealed-dev', '--out', join(d.dataDir, '..', 'dev2'), '--json'], env);
        expect(noCert.code).toBe(5);
      }
      expect(storedKeys(d.dataDir)).toHaveLength(2);
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }
  });

  test('a wrong or missing passphrase refuses to start with one clear line and exit 5', async () => {
    const d = deployment();
    expect((await d.cli(['init', '--json'], PASS)).code).toBe(0);
    await expectSealed(storedKeys(d.dataDir)[0]!.private_jwk, `signing key ${storedKeys(d.dataDir)[0]!.kid}`, 'jwk');
    const ports = ['--host', '127.0.0.1', '--http-port', '0', '--https-port', '0', '--mqtt-port', '0', '--mqtts-port', '0', '--ws-port', '0', '--wss-port', '0'];
    const wrong = await d.cli(['start', ...ports], WRONG);
    expect(wrong.code).toBe(5);
    expect(wrong.stderr).toMatch(/^error: LATCHKEY_KEY_PASSPHRASE does not decrypt signing key \S+: wrong passphrase/);
    expect(wrong.stdout).not.toMatch(/latchkey listening/);
    const missing = await d.cli(['start', ...ports], NONE);
    expect(missing.code).toBe(5);
    expect(missing.stderr).toMatch(/^error: the signing keys are encrypted: set LATCHKEY_KEY_PASSPHRASE/);
    // Nothing was re-encrypted or replaced by the failed starts.
    expect(storedKeys(d.dataDir)).toHaveLength(1);
  });
});
