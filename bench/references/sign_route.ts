import { randomUUID } from 'node:crypto';
import formbody from '@fastify/formbody';
import Fastify from 'fastify';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import type { BenchServer } from '../servers/bench_server.js';

/**
 * The token endpoint's floor: a fastify route that accepts the same form
 * POST and only signs an ES256 JWT with jose. No client lookup, no secret
 * check, no audit, no storage.
 *
 * @example const { ports } = await startSignRoute(); // POST http://127.0.0.1:<ports.http>/oauth/token
 */
export async function startSignRoute(): Promise<BenchServer> {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const kid = (await exportJWK(publicKey)).x!.slice(0, 16);
  const app = Fastify({ logger: false });
  await app.register(formbody);
  app.post('/oauth/token', async (_request, reply) => {
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({ client_id: 'bench', scope: 'mqtt:publish:bench/#' })
      .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid })
      .setIssuer('http://localhost:bench')
      .setSubject('bench')
      .setAudience('urn:latchkey:mqtt')
      .setIssuedAt(now)
      .setExpirationTime(now + 600)
      .setJti(randomUUID())
      .sign(privateKey);
    reply.header('cache-control', 'no-store');
    return { access_token: token, token_type: 'Bearer', expires_in: 600, scope: 'mqtt:publish:bench/#' };
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  if (!address || typeof address === 'string') throw new Error('no address');
  return { ports: { http: address.port }, close: () => app.close() };
}
