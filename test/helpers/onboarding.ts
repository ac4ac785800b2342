/** Onboarding in tests: openssl-made keys and CSRs, claim sessions over real MQTTS, request/response on MQTT. */
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { IClientOptions, MqttClient } from 'mqtt';
import { OPERATOR_CLAIM_LIMITS } from '../../src/onboarding/claims.js';
import { ClaimRegistry, type CreatedClaim } from '../../src/registry/claims.js';
import { onboardingEndpoint } from '../../src/registry/onboarding_endpoint.js';
import { TemplateRegistry } from '../../src/registry/templates.js';
import { tempDir } from './cli.js';
import type { TestServer } from './latchkey.js';
import { connect } from './mqtt.js';
import { caPemOf } from './mtls.js';

/**
 * A key and a CSR made by openssl, as a device toolchain would: `curve`
 * prime256v1 (P-256) unless asked otherwise; `cn` is the subject CN.
 */
export function opensslCsr(cn: string, curve = 'prime256v1'): { keyPem: string; csrPem: string } {
  const dir = tempDir('latchkey-csr-');
  try {
    const key = join(dir, 'k.pem');
    const csr = join(dir, 'r.csr');
    execFileSync('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', `ec_paramgen_curve:${curve}`, '-nodes', '-keyout', key, '-subj', `/CN=${cn}`, '-out', csr], { stdio: 'pipe' });
    return { keyPem: readFileSync(key, 'utf8'), csrPem: readFileSync(csr, 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Creates a template in-process. */
export function createTemplate(t: TestServer, name: string, scope: string, opts: { idPrefix?: string; auth?: string; certDays?: number } = {}): void {
  new TemplateRegistry(t.server.store, t.server.audit).create({ name, scope, ...opts }, 'test');
}

/** Mints an operator claim in-process, as `claim create` would. */
export function createClaim(t: TestServer, template: string, ask: { uses?: number; expiresIn?: number } = {}): CreatedClaim {
  const endpoint = onboardingEndpoint({ host: '127.0.0.1' }, t.server.ports, caPemOf(t), null);
  return new ClaimRegistry(t.server.store, t.server.audit).create(template, ask, OPERATOR_CLAIM_LIMITS, 'test', endpoint);
}

/** TLS options that trust the test CA and check the server as `localhost`. */
export function tlsTo(t: TestServer, extra: IClientOptions = {}): IClientOptions {
  return { ca: caPemOf(t), servername: 'localhost', rejectUnauthorized: true, ...extra };
}

/** A provisioning CONNECT over MQTTS: username `$claim`, password = claim, client id = the id asked for. */
export function claimConnect(t: TestServer, id: string, claim: string): Promise<MqttClient> {
  return connect(t.mqttsUrl, tlsTo(t, { clientId: id, username: '$claim', password: claim }));
}

/** Publishes `body` (with a fresh request_id) and waits for the answer carrying that id on `responseTopic`. */
export function ask(client: MqttClient, topic: string, responseTopic: string, body: Record<string, unknown>, ms = 10_000): Promise<Record<string, unknown>> {
  const requestId = `r-${Math.random().toString(36).slice(2)}`;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer on ${responseTopic} within ${ms} ms`)), ms);
    const onMessage = (t: string, payload: Buffer) => {
      if (t !== responseTopic) return;
      const answer = JSON.parse(payload.toString()) as Record<string, unknown>;
      if (answer.request_id !== requestId && answer.request_id !== null) return;
      clearTimeout(timer);
      client.off('message', onMessage);
      resolve(answer);
    };
    client.on('message', onMessage);
    client.publish(topic, JSON.stringify({ request_id: requestId, ...body }), { qos: 0 });
  });
}

/** Subscribes to the device's `$provision/<id>/#`, sends its CSR, and returns the answer. */
export async function provisionWithCsr(client: MqttClient, id: string, csrPem: string): Promise<Record<string, unknown>> {
  await client.subscribeAsync(`$provision/${id}/#`, { qos: 0 });
  return ask(client, `$provision/${id}/csr`, `$provision/${id}/csr/response`, { csr: csrPem });
}
