import type { Command } from 'commander';
import { AuditLog } from '../audit/audit_log.js';
import { loadConfig, type RawOptions } from '../config/load_config.js';
import type { Config } from '../config/options.js';
import { createLogger } from '../log/logger.js';
import { ClientRegistry } from '../registry/clients.js';
import { SessionRegistry } from '../registry/sessions.js';
import { StaticPasswordRegistry } from '../registry/static_passwords.js';
import { databasePath } from '../store/database.js';
import { Store } from '../store/store.js';
import { emit, type CommandOutput } from './output.js';

/** Options every command takes, before or after the subcommand (declared once on the root). */
export interface GlobalOptions {
  dataDir?: string;
  certsDir?: string;
  json?: boolean;
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
  const { dataDir, certsDir } = globalOptions(cmd);
  return loadConfig({ dataDir, certsDir, ...flags });
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
 * @example await withStore(cmd, ({ registry }) => registry.list());
 */
export async function withStore<T>(cmd: Command, work: (session: StoreSession) => T | Promise<T>): Promise<T> {
  const config = cliConfig(cmd);
  const store = Store.open(databasePath(config));
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
