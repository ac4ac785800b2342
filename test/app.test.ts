import net from 'node:net';
import { describe, expect, test } from 'vitest';
import { startLatchkey } from '../src/app.js';
import { freePort } from '../src/app/free_port.js';
import { loadConfig } from '../src/config/load_config.js';
import { createLogger } from '../src/log/logger.js';
import { tempDir } from './helpers/cli.js';

const base = (extra: Record<string, string> = {}) => {
  const root = tempDir();
  return loadConfig(
    { dataDir: `${root}/data`, certsDir: `${root}/certs`, host: '127.0.0.1', mqttPort: '0', mqttsPort: '0', wsPort: '0', wssPort: '0', httpPort: '0', httpsPort: '0', logLevel: 'silent', ...extra },
    {},
  );
};

describe('startLatchkey', () => {
  test('with --http-port 0 and no --issuer, the issuer names the port actually bound', async () => {
    const server = await startLatchkey(base(), createLogger('silent'));
    try {
      const metadata = (await (await fetch(`http://127.0.0.1:${server.ports.http}/.well-known/oauth-authorization-server`)).json()) as { issuer: string };
      expect(metadata.issuer).toBe(`http://localhost:${server.ports.http}`);
    } finally {
      await server.close();
    }
  });

  test('a port already taken fails start-up and leaves no listener behind', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const taken = (blocker.address() as net.AddressInfo).port;
    const httpPort = await freePort('127.0.0.1');
    const config = base({ httpPort: String(httpPort), mqttsPort: String(taken) });
    await expect(startLatchkey(config, createLogger('silent'))).rejects.toThrow(/EADDRINUSE/);
    blocker.close();
    // The HTTP port, bound before the failure, was released: it binds again at once. (Bound
    // straight away, not by a second start-up: other test files pick free ports meanwhile.)
    const probe = net.createServer();
    await new Promise<void>((resolve, reject) => probe.once('error', reject).listen(httpPort, '127.0.0.1', resolve));
    await new Promise<void>((resolve) => probe.close(() => resolve()));
  });
});
