import type { Command } from 'commander';
import { LatchkeyError } from '../../errors/latchkey_error.js';
import type { ClaimView } from '../../registry/claims.js';
import { positiveDuration } from '../../registry/validate.js';
import { action, withOperations } from '../context.js';
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
        const created = await withOperations(cmd, (ops) =>
          ops.createClaim({
            template: String(opts.template),
            uses,
            expiresIn,
            ...(typeof opts.publicHost === 'string' ? { publicHost: opts.publicHost } : {}),
            ...(opts.mqttsPort !== undefined ? { mqttsPort: port(opts.mqttsPort, '--mqtts-port') } : {}),
            ...(opts.httpsPort !== undefined ? { httpsPort: port(opts.httpsPort, '--https-port') } : {}),
          }),
        );
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
        withOperations(cmd, async (ops) => {
          const claims = await ops.listClaims();
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
        withOperations(cmd, async (ops) => {
          const revoked = await ops.revokeClaim(id!);
          return {
            json: { id: revoked.id, revoked: true, already_revoked: revoked.already_revoked },
            text: revoked.already_revoked ? `claim ${revoked.id} was already revoked` : `revoked claim ${revoked.id} (${revoked.used}/${revoked.uses} used)`,
          };
        }),
      ),
    );
}

function port(flag: unknown, name: string): number {
  const text = String(flag);
  if (!/^\d{1,5}$/.test(text) || Number(text) < 1 || Number(text) > 65_535) throw new LatchkeyError('invalid_argument', `${name} must be a port 1-65535`);
  return Number(text);
}

function listText(claims: readonly ClaimView[]): string {
  return table([
    ['ID', 'TEMPLATE', 'CLAIM', 'USED', 'STATUS', 'CREATED BY', 'EXPIRES'],
    ...claims.map((c) => [c.id, c.template, `${c.prefix}…${c.last4}`, `${c.used}/${c.uses}`, c.status, c.created_by, c.expires_at]),
  ]);
}
