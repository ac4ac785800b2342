import type { Command } from 'commander';
import type { PatView } from '../../registry/personal_access_tokens.js';
import { credentialLifetime } from '../../config/duration.js';
import { action, withOperations } from '../context.js';
import { table } from '../output.js';

/**
 * `latchkey pat …`: personal access tokens (docs/INTERFACE.md#people-and-integrations). A token is shown
 * once, at creation; lists show its prefix and last four characters only.
 *
 * @example registerPatCommands(program) // latchkey pat create alice --name laptop --scope "admin:read"
 */
export function registerPatCommands(program: Command): void {
  const pat = program.command('pat').description('personal access tokens of users');

  pat
    .command('create')
    .description('issue a token for a user; shown once')
    .argument('<user>', 'the user the token belongs to')
    .requiredOption('--name <label>', 'what the token is for, e.g. laptop or ci')
    .requiredOption('--scope <scopes>', "the token's scopes, within the user's")
    .option('--expires-in <duration>', 'lifetime, e.g. 7d or 12h, or "never"', '30d')
    .option('--force', 'allow an --expires-in under 30s')
    .action(
      action(([user], opts, cmd) => {
        const text = String(opts.expiresIn);
        const expiresIn = text === 'never' ? ('never' as const) : credentialLifetime(text, '--expires-in', opts.force === true);
        return withOperations(cmd, async (ops) => {
          const created = await ops.createPat({ user: user!, name: String(opts.name), scope: String(opts.scope), expiresIn });
          return {
            json: { ...created },
            text: [
              `created token ${created.id} for ${user!} (${created.expires_at === null ? 'never expires' : `expires ${created.expires_at}`})`,
              '',
              `token: ${created.token}`,
              'Store this token now: it will not be shown again.',
            ].join('\n'),
          };
        });
      }),
    );

  pat
    .command('list')
    .description('list tokens: name, scopes, created, expires, last used (never the token)')
    .option('--user <name>', "only this user's tokens")
    .action(
      action((_args, opts, cmd) =>
        withOperations(cmd, async (ops) => {
          const tokens = await ops.listPats(typeof opts.user === 'string' ? opts.user : undefined);
          return { json: { tokens }, text: tokens.length === 0 ? 'no personal access tokens' : listText(tokens) };
        }),
      ),
    );

  pat
    .command('revoke')
    .description('revoke one token; the user\'s other tokens keep working')
    .argument('<id>', 'the token id (pat_…), from pat list')
    .action(
      action(([id], _opts, cmd) =>
        withOperations(cmd, async (ops) => {
          const revoked = await ops.revokePat(id!);
          return {
            json: { id: revoked.id, user: revoked.user, revoked: true, already_revoked: revoked.already_revoked },
            text: revoked.already_revoked ? `token ${revoked.id} was already revoked` : `revoked token ${revoked.id} (${revoked.name}) of ${revoked.user}`,
          };
        }),
      ),
    );
}

function listText(tokens: readonly PatView[]): string {
  return table([
    ['ID', 'USER', 'NAME', 'TOKEN', 'STATUS', 'CREATED', 'EXPIRES', 'LAST USED', 'SCOPE'],
    ...tokens.map((t) => [
      t.id,
      t.user,
      t.name,
      `${t.prefix}…${t.last4}`,
      t.status,
      t.created_at,
      t.expires_at ?? 'never',
      t.last_used_at ? `${t.last_used_at} from ${t.last_used_addr ?? '?'}` : 'never',
      t.scope,
    ]),
  ]);
}
