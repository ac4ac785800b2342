import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { credentialLifetime, formatDuration, parseDuration } from '../../config/duration.js';
import type { ClientView } from '../../registry/clients.js';
import { LatchkeyError } from '../../errors/latchkey_error.js';
import { CLIENT_AUTH_METHODS, type ClientAuthMethod } from '../../store/clients.js';
import type { LiveSessionView } from '../../registry/sessions.js';
import { action, CLI_ACTOR, withOperations, withStore } from '../context.js';
import { registerClientImport } from './client_import.js';
import { fields, table, type CommandOutput } from '../output.js';

const DEFAULT_GRACE = '24h';
/** How long disable and delete wait to see a running server end the client's sessions. */
const CONFIRM_MS = 3_000;

/**
 * `latchkey client …`: register and manage devices (docs/INTERFACE.md#command-line).
 * Every change goes through the ClientRegistry: validated, durable, on the
 * change feed for a running server, audited.
 *
 * @example registerClientCommands(program) // latchkey client create t1 --scope "mqtt:publish:a/b"
 */
export function registerClientCommands(program: Command): void {
  const client = program.command('client').description('register and manage device clients');

  client
    .command('create')
    .description('register a device; its secret is shown once')
    .argument('<id>', 'client id: 1-64 of A-Z a-z 0-9 . _ -')
    .requiredOption('--scope <scopes>', 'allowed scopes, space separated, e.g. "mqtt:publish:home/{client_id}/telemetry"')
    .option('--token-ttl <duration>', 'access-token lifetime, e.g. 10m (default: the server default)')
    .option('--auth-method <method>', `how it authenticates: ${CLIENT_AUTH_METHODS.join(', ')} (default client_secret_basic, private_key_jwt with --jwk)`)
    .option('--force', 'allow a --token-ttl under 30s')
    .option('--jwk <file>', 'public key for private_key_jwt: a JWK, a PEM public key or a PEM certificate (never a private key)')
    .option('--static-password', 'a stock device (Tasmota, Shelly, …): a fixed MQTT password instead of a client secret, shown once; weaker than tokens or certificates')
    .action(
      action(([id], opts, cmd) => {
        const tokenTtl = typeof opts.tokenTtl === 'string' ? credentialLifetime(opts.tokenTtl, '--token-ttl', opts.force === true) : undefined;
        const publicJwk = typeof opts.jwk === 'string' ? readKeyFile(opts.jwk) : undefined;
        const authMethod = typeof opts.authMethod === 'string' ? opts.authMethod : publicJwk !== undefined ? 'private_key_jwt' : 'client_secret_basic';
        const staticPassword = opts.staticPassword === true;
        if (staticPassword && (publicJwk !== undefined || typeof opts.authMethod === 'string')) {
          throw new LatchkeyError('invalid_argument', '--static-password is for devices that cannot fetch tokens: leave out --auth-method and --jwk');
        }
        // Static passwords are managed on the server's own files only (withStore refuses --server).
        if (staticPassword) {
          return withStore(cmd, ({ registry, passwords }) => {
            const created = registry.create(
              { id: id!, scope: requireScope(opts.scope), ...(tokenTtl !== undefined ? { tokenTtl } : {}), authMethod: authMethod as ClientAuthMethod, noSecret: true },
              CLI_ACTOR,
            );
            const { mqtt_password } = passwords.set(created.client_id, 0, CLI_ACTOR);
            return passwordOutput({ client_id: created.client_id, client_secret: null, mqtt_password }, `created client ${created.client_id}`, registry.show(created.client_id));
          });
        }
        return withOperations(cmd, async (ops) => {
          const created = await ops.createClient({
            id: id!,
            scope: requireScope(opts.scope),
            ...(tokenTtl !== undefined ? { tokenTtl } : {}),
            authMethod: authMethod as ClientAuthMethod,
            ...(publicJwk !== undefined ? { publicJwk } : {}),
          });
          const view = await ops.showClient(created.client_id);
          return secretOutput(created, `created client ${view.client_id}`, view);
        });
      }),
    );

  client
    .command('rotate-password')
    .description('issue a new static MQTT password (or a first one); the old one keeps working until the grace ends')
    .argument('<id>')
    .option('--grace <duration>', 'how long the old password stays valid (0 ends it now)', DEFAULT_GRACE)
    .action(
      action(([id], opts, cmd) => {
        const grace = parseDuration(String(opts.grace));
        return withStore(cmd, ({ passwords }) => {
          const set = passwords.set(id!, grace, CLI_ACTOR);
          const note = set.previous_expires_at === null ? 'first static password' : grace === 0 ? 'old password ended now' : `old password valid until ${set.previous_expires_at}`;
          return passwordOutput(
            { client_id: set.client_id, mqtt_password: set.mqtt_password, previous_expires_at: set.previous_expires_at },
            `new static password for ${set.client_id}; ${note}`,
          );
        });
      }),
    );

  client
    .command('revoke-password')
    .description('revoke the static MQTT password(s); live sessions using one end within a second')
    .argument('<id>')
    .option('--wait', 'wait (up to 3 s) until a running server has ended the sessions, and say how many it did')
    .action(
      action(([id], opts, cmd) =>
        withStore(cmd, async ({ passwords, sessions }) => {
          const onPassword = (list: ReturnType<typeof sessions.list>) => list.filter((s) => s.method === 'static_password').length;
          const before = onPassword(sessions.list(id!));
          const result = passwords.revoke(id!, CLI_ACTOR);
          const ended = opts.wait === true ? { sessions_ended: await confirmEnded(() => sessions.list(id!), before, onPassword) } : {};
          return {
            json: { ...result, live_sessions: before, ...ended },
            text: result.revoked === 0 ? `${id!} had no static password` : `revoked the static password of ${id!}${endedNote(before, ended.sessions_ended)}`,
          };
        }),
      ),
    );

  registerClientImport(client);

  client
    .command('list')
    .description('list clients (never their secrets)')
    .action(
      action((_args, _opts, cmd) =>
        withOperations(cmd, async (ops) => {
          const clients = await ops.listClients();
          const text =
            clients.length === 0
              ? 'no clients'
              : table([
                  ['CLIENT ID', 'STATUS', 'AUTH', 'TOKEN TTL', 'SCOPE'],
                  ...clients.map((c) => [c.client_id, c.status, c.auth_method, formatDuration(c.token_ttl), c.scope]),
                ]);
          return { json: { clients }, text };
        }),
      ),
    );

  client
    .command('show')
    .description('show one client (never its secret)')
    .argument('<id>')
    .action(action(([id], _opts, cmd) => withOperations(cmd, async (ops) => viewOutput(await ops.showClient(id!)))));

  client
    .command('set-scope')
    .description('replace the allowed scopes; live sessions lose what is no longer allowed')
    .argument('<id>')
    .requiredOption('--scope <scopes>', 'the new scopes, space separated')
    .action(
      action(([id], opts, cmd) =>
        withOperations(cmd, async (ops) => viewOutput(await ops.setClientScope(id!, requireScope(opts.scope)))),
      ),
    );

  client
    .command('rotate-secret')
    .description('issue a new secret; the old one keeps working until the grace period ends, then every token issued before that end is void')
    .argument('<id>')
    .option('--grace <duration>', 'how long the old secret stays valid (0 ends it now)', DEFAULT_GRACE)
    .action(
      action(([id], opts, cmd) => {
        const grace = parseDuration(String(opts.grace));
        return withOperations(cmd, async (ops) => {
          const rotated = await ops.rotateClientSecret(id!, grace);
          const note =
            grace === 0
              ? 'old secret and every token issued before now ended'
              : `old secret valid for ${formatDuration(grace)} more; then every token issued before that end is void`;
          return secretOutput(rotated, `rotated secret of ${rotated.client_id}; ${note}`);
        });
      }),
    );

  client
    .command('set-auth-method')
    .description('move a client to another authentication method (e.g. tls_client_auth once it has a certificate)')
    .argument('<id>')
    .argument('<method>', CLIENT_AUTH_METHODS.join(', '))
    .option('--jwk <file>', 'public key for private_key_jwt: a JWK, a PEM public key or a PEM certificate (never a private key)')
    .action(
      action(([id, method], opts, cmd) => {
        const publicJwk = typeof opts.jwk === 'string' ? readKeyFile(opts.jwk) : undefined;
        return withOperations(cmd, async (ops) => {
          const changed = await ops.setClientAuthMethod(id!, method!, publicJwk);
          const lines = [`client ${changed.client_id} now authenticates with ${changed.auth_method}`];
          if (changed.secret === 'deleted') lines.push('its client secrets were deleted (moving back to a secret method issues a new one)');
          if (changed.secret === 'kept') lines.push('its client secret is unchanged (basic and post both work with it)');
          if (changed.client_secret !== null) {
            lines.push('', `client_secret: ${changed.client_secret}`, 'Store this secret now: it will not be shown again.');
          }
          return { json: { ...changed }, text: lines.join('\n') };
        });
      }),
    );

  client
    .command('disable')
    .description('refuse new tokens and end live sessions')
    .argument('<id>')
    .option('--cascade', 'also disable every device this client vouched for as a hub (provision:<template>); on this machine\'s files only')
    .option('--wait', 'wait (up to 3 s) until a running server has ended the sessions, and say how many it did')
    .action(
      action(([id], opts, cmd) => {
        if (opts.cascade === true) {
          return withStore(cmd, async ({ registry, sessions }) => {
            const before = sessions.count(id!);
            const { hub: view, disabled: cascade } = registry.disableCascade(id!, CLI_ACTOR);
            const ended = opts.wait === true ? { sessions_ended: await confirmEnded(() => sessions.list(id!), before) } : {};
            const cascadeNote = `\n${cascade.length === 0 ? 'it vouched for no device' : `also disabled: ${cascade.join(', ')}`}`;
            return {
              json: { ...view, live_sessions: before, ...ended, cascade },
              text: `${describe(view)}${endedNote(before, ended.sessions_ended)}${cascadeNote}`,
            };
          });
        }
        return withOperations(cmd, async (ops) => {
          const { view, live_sessions: before } = await ops.setClientStatus(id!, 'disabled');
          const ended = opts.wait === true ? { sessions_ended: await confirmEnded(() => ops.listSessions(id!), before) } : {};
          return { json: { ...view, live_sessions: before, ...ended }, text: `${describe(view)}${endedNote(before, ended.sessions_ended)}` };
        });
      }),
    );

  client
    .command('enable')
    .description('allow the client again')
    .argument('<id>')
    .action(action(([id], _opts, cmd) => withOperations(cmd, async (ops) => viewOutput((await ops.setClientStatus(id!, 'enabled')).view))));

  client
    .command('delete')
    .description('delete the client for good: live sessions end, its certificates are revoked, its tokens never work again')
    .argument('<id>')
    .option('--wait', 'wait (up to 3 s) until a running server has ended the sessions, and say how many it did')
    .action(
      action(([id], opts, cmd) =>
        withOperations(cmd, async (ops) => {
          const { live_sessions: before, revoked_certificates: revokedCertificates } = await ops.deleteClient(id!);
          const revoked = revokedCertificates.length > 0 ? `; revoked certificate(s) ${revokedCertificates.join(', ')}` : '';
          const ended = opts.wait === true ? { sessions_ended: await confirmEnded(() => ops.listSessions(id!), before) } : {};
          return { json: { client_id: id!, deleted: true, live_sessions: before, ...ended }, text: `deleted client ${id!}${revoked}${endedNote(before, ended.sessions_ended)}` };
        }),
      ),
    );
}

/**
 * An empty `--scope ""` is almost always a shell quoting slip, not a wish
 * for a client that may do nothing (`client disable` says that plainly).
 */
function requireScope(value: unknown): string {
  const scope = typeof value === 'string' ? value : '';
  if (scope.trim() === '') throw new LatchkeyError('invalid_scope', '--scope must name at least one scope, e.g. "mqtt:publish:home/{client_id}/telemetry"');
  return scope;
}

/** The --jwk file; anything larger than a public key could be is a wrong path, not a key. */
function readKeyFile(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new LatchkeyError('invalid_argument', `--jwk: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  if (text.length > 64 * 1024) throw new LatchkeyError('invalid_argument', `--jwk: ${file} is too large for a public key`);
  return text;
}

function viewOutput(view: ClientView): CommandOutput {
  return { json: { ...view }, text: describe(view) };
}

function describe(view: ClientView): string {
  return fields([
    ['client id', view.client_id],
    ['status', view.status],
    ['auth method', view.auth_method],
    ['token ttl', formatDuration(view.token_ttl)],
    ['scope', view.scope],
    ['secrets', view.secrets.map((s) => (s.expires_at === null ? 'current' : `until ${s.expires_at}`)).join(', ') || 'none'],
    ['static password', view.static_password ? 'set (never shown)' : 'none'],
    ['created', view.created_at],
    ['updated', view.updated_at],
  ]);
}

/** The only output that carries a secret: shown once, and said so. */
function secretOutput(
  result: { client_id: string; client_secret: string | null },
  headline: string,
  view?: ClientView,
): CommandOutput {
  const lines = [headline];
  if (view) lines.push(describe(view));
  if (result.client_secret !== null) {
    lines.push('', `client_secret: ${result.client_secret}`, 'Store this secret now: it will not be shown again.');
  }
  return { json: { client_id: result.client_id, client_secret: result.client_secret }, text: lines.join('\n') };
}

/** The output of a new static password: shown once, and said so, with the warning that goes with it. */
function passwordOutput(json: { client_id: string; mqtt_password: string } & Record<string, unknown>, headline: string, view?: ClientView): CommandOutput {
  const lines = [headline];
  if (view) lines.push(describe(view));
  lines.push(
    '',
    `mqtt username:  ${json.client_id}`,
    `mqtt client id: ${json.client_id}`,
    `mqtt password:  ${json.mqtt_password}`,
    'Store this password now: it will not be shown again.',
    'A static password is weaker than tokens or certificates: use it only for devices that cannot fetch tokens, over MQTTS where the device allows.',
  );
  return { json, text: lines.join('\n') };
}

/**
 * How many of the `before` live sessions a running server has ended, waiting
 * up to {@link CONFIRM_MS}; 0 at once when there were none (or no server runs).
 */
async function confirmEnded(
  list: () => LiveSessionView[] | Promise<LiveSessionView[]>,
  before: number,
  count: (left: LiveSessionView[]) => number = (left) => left.length,
): Promise<number> {
  if (before === 0) return 0;
  const deadline = Date.now() + CONFIRM_MS;
  let left = count(await list());
  while (left > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    left = count(await list());
  }
  return Math.max(0, before - left);
}

/** What the text output says of the sessions: ended (with --wait) or about to end. */
function endedNote(before: number, ended: number | undefined): string {
  if (before === 0) return '';
  if (ended === undefined) return `\n${before} live session${before === 1 ? '' : 's'}: a running server ends ${before === 1 ? 'it' : 'them'} within a second`;
  return ended === before ? `\nended ${ended} live session${ended === 1 ? '' : 's'}` : `\nended ${ended} of ${before} live sessions so far`;
}
