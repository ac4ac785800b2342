import type { Command } from 'commander';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { LatchkeyError } from '../errors/latchkey_error.js';
import { AuditLog } from '../audit/audit_log.js';
import { loadConfig, type RawOptions } from '../config/load_config.js';
import type { Config } from '../config/options.js';
import { createLogger } from '../log/logger.js';
import { ClientRegistry } from '../registry/clients.js';
import { SessionRegistry } from '../registry/sessions.js';
import { StaticPasswordRegistry } from '../registry/static_passwords.js';
import { databasePath } from '../store/database.js';
import { Store } from '../store/store.js';
import { parseServerUrl, type RemoteTarget } from './operations/server_url.js';
import { LocalOperations } from './operations/local.js';
import type { Operations } from './operations/operations.js';
import { emit, type CommandOutput } from './output.js';

/** Options every command takes, before or after the subcommand (declared once on the root). */
export interface GlobalOptions {
  dataDir?: string;
  certsDir?: string;
  store?: string;
  json?: boolean;
  server?: string;
  token?: string;
  ca?: string;
}

/** Who the audit trail says made a CLI change. */
export const CLI_ACTOR = 'cli';

/**
 * The root's options as seen from any command, wherever they were typed.
 *
 * @example globalOptions(cmd).json // true for `latchkey client list --json`
 */
export function globalOptions(cmd: Command): GlobalOptions {
  return cmd.optsWithGlobals<GlobalOptions>();
}

/**
 * The configuration a command runs with: flags, then `LATCHKEY_*`
 * environment variables, then defaults, exactly as the server resolves them.
 *
 * @example const config = cliConfig(cmd); // config.dataDir === './data' by default
 */
export function cliConfig(cmd: Command, flags: RawOptions = {}): Readonly<Config> {
  const { dataDir, certsDir, store } = globalOptions(cmd);
  return loadConfig({ dataDir, certsDir, store, ...flags });
}

/** An open store with the pieces a command changes things through. */
export interface StoreSession {
  config: Readonly<Config>;
  store: Store;
  audit: AuditLog;
  registry: ClientRegistry;
  /** Static MQTT passwords of stock devices. */
  passwords: StaticPasswordRegistry;
  /** Live sessions as the running servers publish them (reading only; `sessions kick` adds revokers). */
  sessions: SessionRegistry;
}

/**
 * Opens the store for one command and always closes it, after writing the
 * audit events the command recorded. Logs stay silent: the CLI's stdout is
 * its answer, and the audit table is where events belong.
 *
 * For commands that make sense on this machine's files only: it refuses
 * `--server`. A command that manages the server's data should use
 * {@link withOperations} instead (one method on Operations, one in
 * LocalOperations, one in RemoteOperations over an admin route), so it also
 * works remotely.
 *
 * @example await withStore(cmd, ({ registry }) => registry.list());
 */
export async function withStore<T>(cmd: Command, work: (session: StoreSession) => T | Promise<T>): Promise<T> {
  // A command that only knows the local database must not quietly use it when asked for another server.
  localOnly(cmd);
  const config = cliConfig(cmd);
  // PostgreSQL (--store) is the cluster's store: the change reaches every node through its change feed.
  const store = Store.open(config.store ?? existingDatabase(config));
  const audit = new AuditLog(store, createLogger('silent'));
  try {
    return await work({
      config,
      store,
      audit,
      registry: new ClientRegistry(store, audit, config.tokenTtl),
      passwords: new StaticPasswordRegistry(store, audit),
      sessions: new SessionRegistry(store, audit),
    });
  } finally {
    // The change itself is already committed; say so if its audit record could not follow.
    if (!audit.flush()) process.stderr.write(`warning: ${audit.pending} audit event(s) could not be written: the database is busy or full\n`);
    store.close();
  }
}

/**
 * Runs a command body against the latchkey it is meant for: the admin API
 * of `--server` (env LATCHKEY_SERVER) with `--token` (LATCHKEY_TOKEN), or
 * else this machine's database. The body is the same in both modes.
 *
 * @example await withOperations(cmd, (ops) => ops.listClients());
 */
export async function withOperations<T>(cmd: Command, work: (ops: Operations) => T | Promise<T>): Promise<T> {
  const target = remoteTarget(cmd);
  if (target) {
    // The HTTP client loads only for remote mode, keeping local commands quick to start.
    const [{ AdminClient }, { RemoteOperations }] = await Promise.all([import('./operations/admin_client.js'), import('./operations/remote.js')]);
    return work(new RemoteOperations(new AdminClient(target)));
  }
  return withStore(cmd, (session) => work(new LocalOperations(session, CLI_ACTOR)));
}

/**
 * The remote latchkey named by `--server`/LATCHKEY_SERVER, with its token
 * and CA; null when the CLI works on the local files.
 *
 * @throws LatchkeyError invalid_option for a bad URL, a missing token or an unreadable --ca
 */
export function remoteTarget(cmd: Command): RemoteTarget | null {
  const opts = globalOptions(cmd);
  const serverText = opts.server ?? nonEmpty(process.env.LATCHKEY_SERVER);
  if (serverText === undefined) return null;
  const server = parseServerUrl(serverText);
  const token = opts.token ?? nonEmpty(process.env.LATCHKEY_TOKEN);
  if (token === undefined) {
    throw new LatchkeyError('invalid_option', `--server needs a PAT or API key with admin:read/admin:write: set LATCHKEY_TOKEN (or pass --token)`);
  }
  const caFile = opts.ca ?? nonEmpty(process.env.LATCHKEY_CA);
  let ca: string | undefined;
  if (caFile !== undefined) {
    try {
      ca = readFileSync(caFile, 'utf8');
    } catch (err) {
      throw new LatchkeyError('invalid_option', `--ca: cannot read ${caFile}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
  }
  return { server, token, ...(ca !== undefined ? { ca } : {}) };
}

/**
 * Refuses `--server` for a command that works on this machine's files only
 * (init and start; every other command runs through {@link withOperations}).
 *
 * @throws LatchkeyError invalid_option
 */
export function localOnly(cmd: Command): void {
  const opts = globalOptions(cmd);
  if ((opts.server ?? nonEmpty(process.env.LATCHKEY_SERVER)) === undefined) return;
  throw new LatchkeyError(
    'invalid_option',
    `"latchkey ${commandPath(cmd)}" works on this machine's files only and cannot run with --server (or LATCHKEY_SERVER); run it on the server's machine`,
  );
}

function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c?.parent; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

/**
 * The database a command other than `init` works on, which must exist: run
 * from the wrong directory, creating a fresh empty one would report success
 * while the running server never sees the change.
 *
 * @throws LatchkeyError not_initialised (exit 5), naming the path it looked at
 */
export function existingDatabase(config: Pick<Config, 'dataDir'>): string {
  const path = resolve(databasePath(config));
  if (!existsSync(path)) {
    throw new LatchkeyError(
      'not_initialised',
      `no latchkey database at ${path}: run "latchkey init" there, pass --data-dir, or manage a running server with --server`,
    );
  }
  return path;
}

/** Options commander hands an action: this command's own, keyed in camelCase. */
export type CommandOptions = Record<string, string | boolean | undefined>;

/**
 * Adapts a command body to commander's `(...args, options, command)` call
 * and prints what it returns; errors go up to the one error path in main.
 *
 * @example cmd.action(action(([id], _opts, cmd) => ({ json: { id }, text: id })))
 */
export function action(
  body: (args: string[], options: CommandOptions, cmd: Command) => CommandOutput | Promise<CommandOutput>,
): (...received: unknown[]) => Promise<void> {
  return async (...received) => {
    const cmd = received.at(-1) as Command;
    const options = received.at(-2) as CommandOptions;
    const args = received.slice(0, -2) as string[];
    const output = await body(args, options, cmd);
    emit(output, globalOptions(cmd).json === true);
  };
}
