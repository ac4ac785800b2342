import { Command } from 'commander';
import { registerApiKeyCommands } from './commands/apikey.js';
import { registerAuditCommand } from './commands/audit.js';
import { registerCertCommands } from './commands/cert.js';
import { registerClaimCommands } from './commands/claim.js';
import { registerClientCommands } from './commands/client.js';
import { registerConsoleCommand } from './commands/console.js';
import { registerExplainCommand } from './commands/explain.js';
import { registerInitCommand } from './commands/init.js';
import { registerKeysCommands } from './commands/keys.js';
import { registerMigrateCommand } from './commands/migrate.js';
import { registerPatCommands } from './commands/pat.js';
import { registerSessionsCommands } from './commands/sessions.js';
import { registerProvisionCommand } from './commands/provision.js';
import { registerStartCommand } from './commands/start.js';
import { registerTemplateCommands } from './commands/template.js';
import { registerTokenCommands } from './commands/token.js';
import { registerUserCommands } from './commands/user.js';

/**
 * The command table: one register function per command group, in the order
 * `--help` lists them. A new group (cert, user, pat, apikey) is one file in
 * commands/ and one line here.
 */
const COMMAND_GROUPS: readonly ((program: Command) => void)[] = [
  registerInitCommand,
  registerStartCommand,
  registerClientCommands,
  registerCertCommands,
  registerTemplateCommands,
  registerClaimCommands,
  registerProvisionCommand,
  registerUserCommands,
  registerPatCommands,
  registerApiKeyCommands,
  registerTokenCommands,
  registerSessionsCommands,
  registerKeysCommands,
  registerAuditCommand,
  registerExplainCommand,
  registerConsoleCommand,
  registerMigrateCommand,
];

/**
 * Builds the `latchkey` program. Errors are not printed or exited on here:
 * commander throws, and main's one error path prints one line and picks
 * the exit status.
 *
 * @example await buildProgram().parseAsync(['client', 'list', '--json'], { from: 'user' })
 */
export function buildProgram(version = '0.0.0'): Command {
  const program = new Command('latchkey')
    .description('auth broker for IoT devices: OAuth 2.0 client credentials, mTLS and scoped MQTT')
    .version(version, '-V, --version')
    // Declared once on the root, accepted before or after any subcommand.
    .option('--data-dir <dir>', 'SQLite database and signing keys (env LATCHKEY_DATA_DIR, default ./data)')
    .option('--certs-dir <dir>', 'CA and server certificate (env LATCHKEY_CERTS_DIR, default ./certs)')
    .option('--store <url>', 'a PostgreSQL store shared by several nodes, postgres://user:password@host/db (env LATCHKEY_STORE, default SQLite in --data-dir; prefer the variable: flags show in ps)')
    .option('--json', 'machine-readable output: one JSON object on stdout')
    .option('--server <url>', 'manage the latchkey at this URL over its admin API instead of local files (env LATCHKEY_SERVER), e.g. https://hub.lan:8443')
    .option('--token <token>', 'PAT or API key for --server, with admin:read or admin:write (env LATCHKEY_TOKEN; prefer the variable: flags show in ps)')
    .option('--ca <file>', 'CA certificate to trust for an https --server, e.g. certs/ca.crt (env LATCHKEY_CA)')
    // Set before any subcommand exists: commander copies them to each one.
    .exitOverride()
    .configureOutput({ writeErr: () => {}, outputError: () => {} })
    .configureHelp({ showGlobalOptions: true, sortSubcommands: false })
    .helpCommand(true);
  for (const register of COMMAND_GROUPS) register(program);
  return program;
}
