import type { Command } from 'commander';
import { credentialRevokers } from '../../registry/credential_revokers.js';
import { PatRegistry } from '../../registry/personal_access_tokens.js';
import { SessionRegistry, type LiveSessionView } from '../../registry/sessions.js';
import { StaticPasswordRegistry } from '../../registry/static_passwords.js';
import { action, CLI_ACTOR, cliConfig, withOperations, withStore, type StoreSession } from '../context.js';
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
        withStore(cmd, async (session) => {
          const registry = sessionRegistry(cmd, session);
          const result = await registry.kick(id!, { revoke: opts.revoke === true }, CLI_ACTOR);
          const left = await registry.waitUntilGone(id!, CONFIRM_MS, true);
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

/** The CLI's session registry, with every revoker; the PKI loads only if a certificate is revoked. */
export function sessionRegistry(cmd: Command, { store, audit }: Pick<StoreSession, 'store' | 'audit'>): SessionRegistry {
  const certificates = async () => {
    const { CertificateRegistry } = await import('../../registry/certificates.js');
    const { ensurePki } = await import('../../pki/ca.js');
    const { certsDir } = cliConfig(cmd);
    return new CertificateRegistry(store, audit, async () => (await ensurePki(certsDir)).ca);
  };
  return new SessionRegistry(
    store,
    audit,
    credentialRevokers({ store, audit, pats: new PatRegistry(store, audit), passwords: new StaticPasswordRegistry(store, audit), certificates }),
  );
}

function describeSessions(list: readonly LiveSessionView[]): string {
  if (list.length === 0) return 'no live sessions';
  return table([
    ['CLIENT ID', 'PRINCIPAL', 'CREDENTIAL', 'REMOTE', 'EXPIRES', 'SUBSCRIPTIONS'],
    ...list.map((s) => [s.client_id, s.principal, s.method, s.remote ?? '-', s.credential_expires_at ?? 'never', s.subscriptions.join(' ') || '-']),
  ]);
}
