import { generateKeyPairSync, randomBytes } from 'node:crypto';
import formbody from '@fastify/formbody';
import Fastify from 'fastify';
import { signEs256 } from '../../src/tokens/sign_es256.js';
import type { BenchServer } from '../servers/bench_server.js';

/**
 * The token endpoint's floor: a fastify route that accepts the same form
 * POST and only signs an ES256 JWT, with the very signer latchkey uses
 * (synchronous node:crypto), so the ratio measures latchkey's own work and
 * not a difference between signing libraries. No client lookup, no secret
 * check, no audit, no storage.
 *
 * @example const { ports } = await startSignRoute(); // POST http://127.0.0.1:<ports.http>/oauth/token
 */
export async function startSignRoute(): Promise<BenchServer> {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const kid = randomBytes(8).toString('hex');
  const app = Fastify({ logger: false });
  await app.register(formbody);
  app.post('/oauth/token', async (_request, reply) => {
    const iat = Math.floor(Date.now() / 1000);
    const claims = {
      iss: 'http://localhost:bench',
      sub: 'bench',
      aud: 'urn:latchkey:mqtt',
      client_id: 'bench',
      scope: 'mqtt:publish:bench/#',
      iat,
      exp: iat + 600,
      jti: randomBytes(16).toString('hex'),
    };
    const token = signEs256({ alg: 'ES256', typ: 'at+jwt', kid }, claims, privateKey);
    reply.header('cache-control', 'no-store');
    return { access_token: token, token_type: 'Bearer', expires_in: 600, scope: 'mqtt:publish:bench/#' };
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  if (!address || typeof address === 'string') throw new Error('no address');
  return { ports: { http: address.port }, close: () => app.close() };
}
