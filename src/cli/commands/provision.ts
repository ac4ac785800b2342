import type { Command } from 'commander';
import { mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { LatchkeyError } from '../../errors/latchkey_error.js';
import { parseOnboarding } from '../../onboarding/onboarding_string.js';
import { CLIENT_ID_PATTERN } from '../../policy/index.js';
import { action } from '../context.js';

/**
 * `latchkey provision`: the device side of onboarding, for devices that
 * cannot run the device library. Makes a P-256 key here (it never leaves),
 * pins the server's CA by the onboarding string's fingerprint, provisions
 * over HTTPS and writes `<id>.key` (0600), `<id>.crt` and `ca.crt`.
 *
 * @example registerProvisionCommand(program) // latchkey provision --onboarding "latchkey://onboard?…" --id th-42 --out ./device
 */
export function registerProvisionCommand(program: Command): void {
  program
    .command('provision')
    .description('device side: make a key, provision with an onboarding string, write key + certificate + CA')
    .requiredOption('--onboarding <string>', 'the latchkey://onboard?… string from claim create or a hub')
    .requiredOption('--out <dir>', 'directory for <id>.key (0600), <id>.crt and ca.crt')
    .option('--id <client id>', "the client id to ask for (must start with the template's prefix; default: this host's name)")
    .action(
      action(async (_args, opts) => {
        const onboarding = parseOnboarding(String(opts.onboarding));
        if (!onboarding) throw new LatchkeyError('invalid_argument', '--onboarding is not a latchkey://onboard?mqtts=…&https=…&ca_sha256=…&claim=… string');
        const clientId = typeof opts.id === 'string' ? opts.id : hostname().replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 64);
        if (!CLIENT_ID_PATTERN.test(clientId)) throw new LatchkeyError('invalid_id', `invalid client id "${clientId}": use 1-64 of A-Z a-z 0-9 . _ -`);
        const out = resolve(String(opts.out));
        const { provisionOverHttps, ProvisionFailed } = await import('../provision_client.js');
        const { writeFileAtomic } = await import('../../pki/write_file_atomic.js');
        let creds;
        try {
          creds = await provisionOverHttps(onboarding, clientId);
        } catch (err) {
          if (err instanceof ProvisionFailed) throw new LatchkeyError('provisioning_refused', `${err.code}: ${err.message}`);
          throw new LatchkeyError('unavailable', `cannot reach ${onboarding.https}: ${(err as Error).message}`);
        }
        mkdirSync(out, { recursive: true, mode: 0o700 });
        const keyPath = join(out, `${clientId}.key`);
        const certPath = join(out, `${clientId}.crt`);
        const caPath = join(out, 'ca.crt');
        writeFileAtomic(keyPath, creds.keyPem, 0o600);
        writeFileAtomic(certPath, creds.certPem, 0o644);
        writeFileAtomic(caPath, creds.caPem, 0o644);
        return {
          json: { client_id: clientId, key: keyPath, cert: certPath, ca: caPath, scope: creds.scope, not_after: creds.notAfter, mqtts: onboarding.mqtts },
          text: [
            `provisioned ${clientId}, certificate valid until ${creds.notAfter}`,
            `key   ${keyPath}`,
            `cert  ${certPath}`,
            `ca    ${caPath}`,
            `connect to mqtts://${onboarding.mqtts} with this certificate`,
          ].join('\n'),
        };
      }),
    );
}
