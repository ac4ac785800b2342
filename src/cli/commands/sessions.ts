import type { Command } from 'commander';
import type { LiveSessionView } from '../../registry/sessions.js';
import { action, withOperations } from '../context.js';
import { table } from '../output.js';

/** How long `kick` waits to see the session gone before it reports. */
export const CONFIRM_MS = 3_000;

/**
 * `latchkey sessions [--client <id>]` and `sessions kick <id> [--revoke]`:
 * live MQTT sessions on every server process sharing this store, as the
 * servers publish them, and ending one. The running server acts on a kick
 * within a second (the change feed); the command waits to confirm it.
 *
 * @example registerSessionsCommands(program) // latchkey sessions --client thermostat-1
 */
export function registerSessionsCommands(program: Command): void {
  const sessions = program
    .command('sessions')
    .description('live MQTT sessions (all server processes on this store)')
    .option('--client <id>', 'only the sessions of this client, user or API key')
    .action(
      action((_args, opts, cmd) =>
        withOperations(cmd, async (ops) => {
          const list = await ops.listSessions(typeof opts.client === 'string' ? opts.client : undefined);
          return { json: { sessions: list }, text: describeSessions(list) };
        }),
      ),
    );

  sessions
    .command('kick')
    .description('end a live session; --revoke first revokes the credential it used')
    .argument('<id>', 'the MQTT client id of the session')
    .option('--revoke', 'also revoke its credential: the token (jti), certificate, PAT or static password')
    .action(
      action(([id], opts, cmd) =>
        withOperations(cmd, async (ops) => {
          const result = await ops.kickSession(id!, opts.revoke === true);
          const left = await ops.waitSessionGone(id!, CONFIRM_MS);
          const revoked = result.revoked.map((r) => `${r.method} ${r.credential_id}${r.already_revoked ? ' (already revoked)' : ''}`);
          return {
            json: { ...result, ended: left === 0 },
            text: [
              left === 0 ? `ended session ${id!}` : `asked the server to end session ${id!}; still listed after ${CONFIRM_MS / 1000}s`,
              ...(revoked.length > 0 ? [`revoked ${revoked.join(', ')}`] : []),
            ].join('\n'),
          };
        }),
      ),
    );
}

function describeSessions(list: readonly LiveSessionView[]): string {
  if (list.length === 0) return 'no live sessions';
  return table([
    ['CLIENT ID', 'PRINCIPAL', 'CREDENTIAL', 'REMOTE', 'EXPIRES', 'SUBSCRIPTIONS'],
    ...list.map((s) => [s.client_id, s.principal, s.method, s.remote ?? '-', s.credential_expires_at ?? 'never', s.subscriptions.join(' ') || '-']),
  ]);
}
