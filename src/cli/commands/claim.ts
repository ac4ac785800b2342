import type { Command } from 'commander';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LatchkeyError } from '../../errors/latchkey_error.js';
import { OPERATOR_CLAIM_LIMITS } from '../../onboarding/claims.js';
import { PKI_FILES } from '../../pki/pki_files.js';
import { ClaimRegistry, type ClaimView } from '../../registry/claims.js';
import { positiveDuration } from '../../registry/validate.js';
import { action, CLI_ACTOR, withStore } from '../context.js';
import { table } from '../output.js';

/**
 * `latchkey claim …`: onboarding claims. `create` prints the claim secret
 * and the onboarding string once (as a QR code with --qr); lists never
 * show the secret.
 *
 * @example registerClaimCommands(program) // latchkey claim create --template thermostat --qr
 */
export function registerClaimCommands(program: Command): void {
  const claim = program.command('claim').description('one-time onboarding claims for devices');

  claim
    .command('create')
    .description('mint a claim for a template; the secret and onboarding string are shown once')
    .requiredOption('--template <name>', 'the template the device is provisioned with')
    .option('--uses <n>', 'how many devices it may provision', '1')
    .option('--expires-in <duration>', 'lifetime, e.g. 15m, 2h, 7d', '15m')
    .option('--qr', 'also print the onboarding string as a terminal QR code')
    .option('--public-host <host>', 'host name devices dial (env LATCHKEY_PUBLIC_HOST; default --host, or the server certificate\'s first name)')
    .option('--mqtts-port <port>', 'MQTTS port devices dial (env LATCHKEY_MQTTS_PORT, default 8883)')
    .option('--https-port <port>', 'HTTPS port devices dial (env LATCHKEY_HTTPS_PORT, default 8443)')
    .action(
      action(async (_args, opts, cmd) => {
        if (!/^\d{1,6}$/.test(String(opts.uses))) throw new LatchkeyError('invalid_argument', '--uses must be a whole number');
        const uses = Number(opts.uses);
        const expiresIn = positiveDuration(String(opts.expiresIn), '--expires-in');
        // Loaded here, not at start: it brings the X.509 library, which other commands need not pay for.
        const { onboardingEndpoint } = await import('../../registry/onboarding_endpoint.js');
        const created = await withStore(cmd, ({ store, audit, config }) => {
          const effective = { ...config, ...(typeof opts.publicHost === 'string' ? { publicHost: opts.publicHost } : {}) };
          const ports = { mqtts: port(opts.mqttsPort, config.mqttsPort, '--mqtts-port'), https: port(opts.httpsPort, config.httpsPort, '--https-port') };
          const caPem = readPem(join(config.certsDir, PKI_FILES.caCert));
          if (caPem === null) throw new LatchkeyError('not_found', `no CA in ${config.certsDir}: run latchkey init first`);
          const endpoint = onboardingEndpoint(effective, ports, caPem, readPem(join(config.certsDir, PKI_FILES.serverCert)));
          return new ClaimRegistry(store, audit).create(String(opts.template), { uses, expiresIn }, OPERATOR_CLAIM_LIMITS, CLI_ACTOR, endpoint);
        });
        const lines = [
          `created claim ${created.id} (expires ${created.expires_at})`,
          '',
          `claim:      ${created.claim}`,
          `onboarding: ${created.onboarding}`,
        ];
        if (opts.qr === true) {
          const { default: QRCode } = await import('qrcode');
          lines.push('', await QRCode.toString(created.onboarding, { type: 'terminal', small: true }));
        }
        lines.push('Hand this to the device now: it will not be shown again.');
        return { json: { ...created }, text: lines.join('\n') };
      }),
    );

  claim
    .command('list')
    .description('list claims: template, uses, status (never the secret)')
    .action(
      action((_args, _opts, cmd) =>
        withStore(cmd, ({ store, audit }) => {
          const claims = new ClaimRegistry(store, audit).list();
          return { json: { claims }, text: claims.length === 0 ? 'no claims' : listText(claims) };
        }),
      ),
    );

  claim
    .command('revoke')
    .description('revoke a claim; its unused uses die with it')
    .argument('<id>', 'the claim id (clm_…), from claim list')
    .action(
      action(([id], _opts, cmd) =>
        withStore(cmd, ({ store, audit }) => {
          const { view, alreadyRevoked } = new ClaimRegistry(store, audit).revoke(id!, CLI_ACTOR);
          return {
            json: { id: view.id, revoked: true, already_revoked: alreadyRevoked },
            text: alreadyRevoked ? `claim ${view.id} was already revoked` : `revoked claim ${view.id} (${view.used}/${view.uses} used)`,
          };
        }),
      ),
    );
}

function port(flag: unknown, fallback: number, name: string): number {
  if (flag === undefined) return fallback;
  const text = String(flag);
  if (!/^\d{1,5}$/.test(text) || Number(text) < 1 || Number(text) > 65_535) throw new LatchkeyError('invalid_argument', `${name} must be a port 1-65535`);
  return Number(text);
}

function readPem(file: string): string | null {
  return existsSync(file) ? readFileSync(file, 'utf8') : null;
}

function listText(claims: readonly ClaimView[]): string {
  return table([
    ['ID', 'TEMPLATE', 'CLAIM', 'USED', 'STATUS', 'CREATED BY', 'EXPIRES'],
    ...claims.map((c) => [c.id, c.template, `${c.prefix}…${c.last4}`, `${c.used}/${c.uses}`, c.status, c.created_by, c.expires_at]),
  ]);
}
