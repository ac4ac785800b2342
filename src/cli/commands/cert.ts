import type { Command } from 'commander';
import { mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { LatchkeyError } from '../../errors/latchkey_error.js';
import { action, withOperations } from '../context.js';
import { table } from '../output.js';

const DEFAULT_DAYS = '365';

/**
 * `latchkey cert …`: device certificates from the latchkey CA (docs/INTERFACE.md#command-line).
 *
 * @example registerCertCommands(program) // latchkey cert issue thermostat-1 --out ./device
 */
export function registerCertCommands(program: Command): void {
  const cert = program.command('cert').description('device certificates signed by the latchkey CA');

  cert
    .command('issue')
    .description('issue a device certificate (CN = client id), and its key unless --csr is given')
    .argument('<id>', 'the client id the certificate names')
    .requiredOption('--out <dir>', 'directory for <id>.crt, <id>.key (without --csr) and ca.crt')
    .option('--csr <file>', "a PKCS#10 request (PEM) from a device that keeps its own key; its CN must be <id>")
    .option('--days <days>', 'validity in days', DEFAULT_DAYS)
    .action(
      action(async ([id], opts, cmd) => {
        const days = parseDays(String(opts.days));
        const csrPem = typeof opts.csr === 'string' ? readInput(opts.csr, '--csr') : undefined;
        const out = resolve(String(opts.out));
        const { writeFileAtomic } = await import('../../pki/write_file_atomic.js');
        const certPath = join(out, `${id!}.crt`);
        const keyPath = csrPem === undefined ? join(out, `${id!}.key`) : null;
        const caPath = join(out, 'ca.crt');
        return withOperations(cmd, async (ops) => {
          // Written after signing and before the certificate is recorded (locally): bad input writes nothing.
          const issued = await ops.issueCertificate(id!, { days, ...(csrPem !== undefined ? { csrPem } : {}) }, (material) => {
            makeOutDir(out);
            // The key first, and private from its first byte (0600), as init does for ca.key.
            if (keyPath !== null && material.key_pem !== null) writeFileAtomic(keyPath, material.key_pem, 0o600);
            writeFileAtomic(certPath, material.cert_pem, 0o644);
            writeFileAtomic(caPath, material.ca_pem, 0o644);
          });
          const notAfter = issued.not_after;
          return {
            json: { serial: issued.serial, cert: certPath, key: keyPath, not_after: notAfter, ca: caPath, fingerprint: issued.fingerprint },
            text: [
              `issued certificate ${issued.serial} for ${issued.client_id}, valid until ${notAfter}`,
              `cert  ${certPath}`,
              `key   ${keyPath ?? '(kept by the device: signed from its CSR)'}`,
              `ca    ${caPath}`,
            ].join('\n'),
          };
        });
      }),
    );

  cert
    .command('list')
    .description('list issued certificates, newest first')
    .option('--client <id>', 'only the certificates of this client')
    .action(
      action((_args, opts, cmd) =>
        withOperations(cmd, async (ops) => {
          const list = await ops.listCertificates(typeof opts.client === 'string' ? opts.client : undefined);
          const text =
            list.length === 0
              ? 'no certificates'
              : table([
                  ['SERIAL', 'CLIENT ID', 'STATUS', 'NOT AFTER', 'REVOKED AT'],
                  ...list.map((c) => [c.serial, c.client_id, c.status, c.not_after, c.revoked_at ?? '-']),
                ]);
          return { json: { certificates: list }, text };
        }),
      ),
    );

  cert
    .command('revoke')
    .description('revoke a certificate; a running server ends sessions using it within a second')
    .argument('<serial>', 'serial number in hex, with or without colons')
    .action(
      action(([serial], _opts, cmd) =>
        withOperations(cmd, async (ops) => {
          const result = await ops.revokeCertificate(serial!);
          return {
            json: { serial: result.serial, client_id: result.client_id, revoked: true, already_revoked: result.already_revoked },
            text: result.already_revoked
              ? `certificate ${result.serial} was already revoked`
              : `revoked certificate ${result.serial} of ${result.client_id}`,
          };
        }),
      ),
    );
}

function parseDays(text: string): number {
  if (!/^\d{1,5}$/.test(text.trim()) || Number(text) <= 0) {
    throw new LatchkeyError('invalid_argument', `--days must be a whole number of days, e.g. 365 (got "${text}")`);
  }
  return Number(text);
}

function readInput(file: string, flag: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new LatchkeyError('invalid_argument', `${flag}: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}

function makeOutDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new LatchkeyError('invalid_argument', `--out: cannot create ${dir}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}
