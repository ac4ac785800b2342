import Database from 'better-sqlite3';
import { decodeJwt } from 'jose';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type AddressInfo } from 'node:net';
import { type ChildServer, startChildServer } from '../helpers/child_server.js';
import { clientCredentialsToken } from '../helpers/token.js';
import { type CliDirs, cliDirs, expectOneError, spawnTimeout, THERMOSTAT_SCOPE } from './fixture.js';

/** `latchkey start` as a child process on ephemeral ports. */
function startServer(cli: CliDirs): Promise<ChildServer> {
  return startChildServer(cli.dataDir, cli.certsDir);
}

async function token(port: number, id: string, secret: string): Promise<string> {
  return (await clientCredentialsToken(`http://127.0.0.1:${port}`, id, secret)).access_token;
}

function revoked(cli: CliDirs, jti: string): boolean {
  const db = new Database(join(cli.dataDir, 'latchkey.db'), { readonly: true });
  try {
    return db.prepare('SELECT 1 FROM revoked_tokens WHERE jti = ?').get(jti) !== undefined;
  } finally {
    db.close();
  }
}

describe('latchkey start as a child process', { timeout: spawnTimeout(5) }, () => {
  let cli: CliDirs;
  let running: ChildServer | null = null;
  beforeAll(() => {
    cli = cliDirs();
  });
  afterAll(() => {
    running?.child.kill('SIGKILL');
    cli.remove();
  });

  it('keeps a CLI-made client and a CLI revocation across kill -9', async () => {
    running = await startServer(cli);
    expect((await fetch(`http://127.0.0.1:${running.ports.http}/healthz`)).status).toBe(200);

    // The CLI writes while the server runs; the server sees the new client at once.
    const created = await cli.json('client', 'create', 'thermostat-1', '--scope', THERMOSTAT_SCOPE);
    const accessToken = await token(running.ports.http, 'thermostat-1', created.client_secret as string);
    const { jti } = decodeJwt(accessToken);
    expect(await cli.json('token', 'revoke', jti!)).toEqual({ jti, revoked: true, already_revoked: false });

    running.child.kill('SIGKILL');
    expect((await running.exited).signal).toBe('SIGKILL');
    running = await startServer(cli);

    expect(await cli.json('client', 'show', 'thermostat-1')).toMatchObject({ client_id: 'thermostat-1', scope: THERMOSTAT_SCOPE, status: 'enabled' });
    expect(revoked(cli, jti!)).toBe(true);
    // And the restarted server still accepts the secret the CLI printed.
    await token(running.ports.http, 'thermostat-1', created.client_secret as string);
  });

  it('exits 0 on SIGTERM', async () => {
    running ??= await startServer(cli);
    running.child.kill('SIGTERM');
    expect(await running.exited).toEqual({ code: 0, signal: null });
    running = null;
  });

  it('a port in use: one error line, exit 1, and the process ends', async () => {
    const taken = createServer();
    await new Promise<void>((done) => taken.listen(0, '127.0.0.1', done));
    const port = (taken.address() as AddressInfo).port;
    try {
      const result = await cli.run('start', '--host', '127.0.0.1', '--http-port', String(port), '--https-port', '0', '--mqtt-port', '0', '--mqtts-port', '0', '--ws-port', '0', '--wss-port', '0', '--log-level', 'silent');
      expectOneError(result, 1);
      expect(result.stderr).toMatch(/EADDRINUSE/);
    } finally {
      taken.close();
    }
  });
});
