import type { Command } from 'commander';
import { action, withOperations } from '../context.js';

/**
 * `latchkey token revoke <jti>`: puts an access token on the deny-list;
 * a running server ends live sessions using it within a second.
 * Idempotent: revoking twice is not an error.
 *
 * @example registerTokenCommands(program) // latchkey token revoke 9f1c…
 */
export function registerTokenCommands(program: Command): void {
  const token = program.command('token').description('access tokens');
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
