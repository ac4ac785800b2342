import type { Command } from 'commander';
import { formatDuration, parseDuration } from '../../config/duration.js';
import type { ApiKeyView } from '../../registry/api_keys.js';
import { action, withOperations } from '../context.js';
import { table } from '../output.js';

/**
 * `latchkey apikey …`: API keys for integrations (docs/INTERFACE.md#people-and-integrations). A key is
 * shown once, at creation or roll; lists show prefix and last four only.
 *
 * @example registerApiKeyCommands(program) // latchkey apikey roll dashboard --grace 1d
 */
export function registerApiKeyCommands(program: Command): void {
  const apikey = program.command('apikey').description('API keys for integrations');

  apikey
    .command('create')
    .description('create an API key; shown once')
    .argument('<name>', 'key name: 1-64 of A-Z a-z 0-9 . _ - (shared namespace with clients and users)')
    .requiredOption('--scope <scopes>', "the key's scopes, space separated")
    .action(
      action(([name], opts, cmd) =>
        withOperations(cmd, async (ops) => {
          const created = await ops.createApiKey({ name: name!, scope: String(opts.scope) });
          return {
            json: { ...created },
            text: [`created API key ${created.id}`, '', `key: ${created.key}`, 'Store this key now: it will not be shown again.'].join('\n'),
          };
        }),
      ),
    );

  apikey
    .command('list')
    .description('list API keys by prefix and last four characters (never the key)')
    .action(
      action((_args, _opts, cmd) =>
        withOperations(cmd, async (ops) => {
          const keys = await ops.listApiKeys();
          return { json: { api_keys: keys }, text: keys.length === 0 ? 'no API keys' : listText(keys) };
        }),
      ),
    );

  apikey
    .command('roll')
    .description('issue a new key; the old one keeps working until the grace ends')
    .argument('<name>')
    .option('--grace <duration>', 'how long the old key stays valid (0 ends it now)', '7d')
    .action(
      action(([name], opts, cmd) => {
        const grace = parseDuration(String(opts.grace));
        return withOperations(cmd, async (ops) => {
          const rolled = await ops.rollApiKey(name!, grace);
          const note = grace === 0 ? 'the old key stopped now' : `the old key works until ${rolled.previous_expires_at} (${formatDuration(grace)})`;
          return {
            json: { ...rolled },
            text: [`rolled API key ${rolled.id}; ${note}`, '', `key: ${rolled.key}`, 'Store this key now: it will not be shown again.'].join('\n'),
          };
        });
      }),
    );

  for (const status of ['disable', 'enable'] as const) {
    apikey
      .command(status)
      .description(status === 'disable' ? 'refuse the key at once and end its live sessions (until enabled)' : 'allow the key again')
      .argument('<name>')
      .action(
        action(([name], _opts, cmd) =>
          withOperations(cmd, async (ops) => {
            const view = await ops.setApiKeyStatus(name!, status === 'disable' ? 'disabled' : 'enabled');
            return { json: { ...view }, text: `${status}d API key ${view.id}\n${listText([view])}` };
          }),
        ),
      );
  }

  apikey
    .command('delete')
    .description('delete an API key; it stops at once and its live sessions end')
    .argument('<name>')
    .action(
      action(([name], _opts, cmd) =>
        withOperations(cmd, async (ops) => {
          await ops.deleteApiKey(name!);
          return { json: { id: name!, name: name!, deleted: true }, text: `deleted API key ${name!}` };
        }),
      ),
    );
}

function listText(keys: readonly ApiKeyView[]): string {
  return table([
    ['NAME', 'STATUS', 'KEYS', 'CREATED', 'LAST USED', 'SCOPE'],
    ...keys.map((k) => [
      k.id,
      k.status,
      k.secrets.map((s) => `${s.prefix}…${s.last4}${s.expires_at ? ` (until ${s.expires_at})` : ''}`).join(', ') || 'none',
      k.created_at,
      k.last_used_at ? `${k.last_used_at} from ${k.last_used_addr ?? '?'}` : 'never',
      k.scope,
    ]),
  ]);
}
