import type { Command } from 'commander';
import { DEFAULT_USER_SCOPE, type UserView } from '../../registry/users.js';
import { action, withOperations } from '../context.js';
import { fields, table, type CommandOutput } from '../output.js';

/**
 * `latchkey user …`: people who hold personal access tokens (docs/INTERFACE.md#people-and-integrations).
 * A user's scope is the most any of their tokens may carry.
 *
 * @example registerUserCommands(program) // latchkey user create alice --scope "admin:read"
 */
export function registerUserCommands(program: Command): void {
  const user = program.command('user').description('people who hold personal access tokens');

  user
    .command('create')
    .description('add a user; their tokens can never hold more than --scope')
    .argument('<name>', 'user name: 1-64 of A-Z a-z 0-9 . _ - (shared namespace with clients and API keys)')
    .option('--scope <scopes>', `the most the user's tokens may hold (default: "${DEFAULT_USER_SCOPE}")`)
    .action(
      action(([name], opts, cmd) =>
        withOperations(cmd, async (ops) => {
          const view = await ops.createUser({ name: name!, ...(typeof opts.scope === 'string' ? { scope: opts.scope } : {}) });
          return viewOutput(view, `created user ${view.name}`);
        }),
      ),
    );

  user
    .command('list')
    .description('list users')
    .action(
      action((_args, _opts, cmd) =>
        withOperations(cmd, async (ops) => {
          const users = await ops.listUsers();
          const text =
            users.length === 0 ? 'no users' : table([['NAME', 'STATUS', 'SCOPE'], ...users.map((u) => [u.name, u.status, u.scope])]);
          return { json: { users }, text };
        }),
      ),
    );

  user
    .command('show')
    .description('show one user')
    .argument('<name>')
    .action(action(([name], _opts, cmd) => withOperations(cmd, async (ops) => viewOutput(await ops.showUser(name!)))));

  for (const status of ['disable', 'enable'] as const) {
    user
      .command(status)
      .description(status === 'disable' ? 'stop every token of the user at once and end their live sessions' : 'allow the user again')
      .argument('<name>')
      .action(
        action(([name], _opts, cmd) =>
          withOperations(cmd, async (ops) => {
            const view = await ops.setUserStatus(name!, status === 'disable' ? 'disabled' : 'enabled');
            return viewOutput(view, `${status}d user ${view.name}`);
          }),
        ),
      );
  }

  user
    .command('delete')
    .description('delete the user and every token of theirs; their live sessions end and the name is free again')
    .argument('<name>')
    .action(
      action(([name], _opts, cmd) =>
        withOperations(cmd, async (ops) => {
          const deleted = await ops.deleteUser(name!);
          return { json: { ...deleted }, text: `deleted user ${deleted.name} and their tokens` };
        }),
      ),
    );

  user
    .command('set-scope')
    .description("replace the most the user's tokens may hold; live sessions lose what is no longer allowed")
    .argument('<name>')
    .requiredOption('--scope <scopes>', 'the new scopes, space separated')
    .action(
      action(([name], opts, cmd) =>
        withOperations(cmd, async (ops) => viewOutput(await ops.setUserScope(name!, String(opts.scope)))),
      ),
    );
}

function viewOutput(view: UserView, headline?: string): CommandOutput {
  const text = fields([
    ['user', view.name],
    ['status', view.status],
    ['scope', view.scope],
    ['created', view.created_at],
    ['updated', view.updated_at],
  ]);
  return { json: { ...view }, text: headline ? `${headline}\n${text}` : text };
}
