import type { Command } from 'commander';
import { validateName } from '../../registry/validate.js';
import { action, withOperations } from '../context.js';
import { table } from '../output.js';

/**
 * `latchkey token list [--client <id>]`: live (unexpired, unrevoked) access
 * tokens by jti, as the server records them (never the tokens).
 * `latchkey token revoke <jti>`: puts an access token on the deny-list;
 * a running server ends live sessions using it within a second.
 * Idempotent: revoking twice is not an error.
 *
 * @example registerTokenCommands(program) // latchkey token revoke 9f1c…
 */
export function registerTokenCommands(program: Command): void {
  const token = program.command('token').description('access tokens');
  token
    .command('list')
    .description('live access tokens by jti (never the tokens), newest first')
    .option('--client <id>', 'only the tokens of this client')
    .action(
      action((_args, opts, cmd) =>
        withOperations(cmd, async (ops) => {
          const clientId = typeof opts.client === 'string' ? validateName(opts.client) : undefined;
          const tokens = await ops.listTokens(clientId);
          const text =
            tokens.length === 0
              ? 'no live tokens'
              : table([['JTI', 'CLIENT ID', 'ISSUED', 'EXPIRES', 'VIA', 'SCOPE'], ...tokens.map((t) => [t.jti, t.client_id, t.issued_at, t.expires_at, t.issued_via, t.scope])]);
          return { json: { tokens }, text };
        }),
      ),
    );
  token
    .command('revoke')
    .description('revoke an access token by its jti and end sessions using it')
    .argument('<jti>', 'the token\'s "jti" claim')
    .action(
      action(([jti], _opts, cmd) =>
        withOperations(cmd, async (ops) => {
          const added = !(await ops.revokeToken(jti!)).already_revoked;
          return {
            json: { jti: jti!, revoked: true, already_revoked: !added },
            text: added ? `revoked token ${jti!}` : `token ${jti!} was already revoked`,
          };
        }),
      ),
    );
}
