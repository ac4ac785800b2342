import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createServer, type TlsOptions } from 'node:tls';
import { Aedes } from 'aedes';
import type { BenchServer } from '../servers/bench_server.js';
import { listen } from './listen.js';

export interface AedesTlsOptions {
  /** A latchkey certs directory: the same CA and server certificate latchkey serves. */
  certsDir: string;
  /**
   * `tls`: server authentication only. `mtls`: exactly latchkey's MQTTS
   * listener settings (src/broker/listeners.ts): a client certificate is
   * requested and verified against the CA, the verdict left to the broker.
   */
  mode: 'tls' | 'mtls';
}

/**
 * Plain Aedes (no hooks) behind a TLS listener, with the very certificate and
 * key latchkey's MQTTS port presents, so the handshakes cost the same.
 *
 * @example await startTlsAedes({ certsDir: './certs', mode: 'mtls' });
 */
export async function startTlsAedes(opts: AedesTlsOptions): Promise<BenchServer> {
  const tlsOptions: TlsOptions = {
    cert: readFileSync(join(opts.certsDir, 'server.crt')),
    key: readFileSync(join(opts.certsDir, 'server.key')),
    ca: readFileSync(join(opts.certsDir, 'ca.crt')),
    minVersion: 'TLSv1.2',
    ...(opts.mode === 'mtls' ? { requestCert: true, rejectUnauthorized: false } : {}),
  };
  // With rejectUnauthorized false a bad certificate still completes the handshake; a broker
  // with "the same settings" must then refuse it, as latchkey's authenticate does. Nothing more.
  const broker = await Aedes.createBroker(
    opts.mode === 'mtls'
      ? {
          authenticate: (client, _username, _password, done) => {
            const socket = client.conn as { authorized?: boolean };
            if (socket.authorized === true) done(null, true);
            else done(Object.assign(new Error('certificate not verified'), { returnCode: 4 as const }), false);
          },
        }
      : {},
  );
  const server = createServer(tlsOptions, broker.handle);
  const port = await listen(server);
  return {
    ports: { mqtts: port },
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await new Promise<void>((resolve) => broker.close(() => resolve()));
    },
  };
}
