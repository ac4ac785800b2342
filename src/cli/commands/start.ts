import { type Command, Option } from 'commander';
import type { RawOptions } from '../../config/load_config.js';
import { envName, OPTIONS } from '../../config/options.js';
import { checkLifetime } from '../../config/duration.js';
import { cliConfig, localOnly } from '../context.js';
import { reportError } from '../output.js';

/** Options every command already takes from the root; `start` reads them from there. */
const GLOBAL_KEYS = new Set(['dataDir', 'certsDir', 'store']);

/** How long a graceful stop may take before the process gives up waiting. */
const STOP_TIMEOUT_MS = 10_000;

/**
 * `latchkey start`: the server. Its flags are the OPTIONS table, one flag
 * per row with its `LATCHKEY_*` variable, so a new option needs no CLI code.
 * The server modules are imported only here, keeping every other command quick.
 *
 * @example registerStartCommand(program) // latchkey start --http-port 0 --mqtt-port 0
 */
export function registerStartCommand(program: Command): void {
  const start = program.command('start').description('run the OAuth server and the MQTT broker (runs init if needed)');
  const flagged = OPTIONS.filter((spec) => !GLOBAL_KEYS.has(spec.key)).map((spec) => {
    const fallback = spec.fallback === null ? '' : `, default ${spec.fallback}`;
    // No commander default: loadConfig applies flag, then environment, then default.
    // A boolean flag alone means true (`--revoke-replaced`); `--revoke-replaced false` is accepted too.
    const value = spec.kind === 'boolean' ? '[value]' : '<value>';
    const option = new Option(`--${spec.flag} ${value}`, `${spec.doc} (env ${envName(spec.flag)}${fallback})`);
    start.addOption(option);
    return { spec, option };
  });
  start.option('--force', 'allow a --token-ttl under 30s');
  start.action(async (opts: Record<string, string | boolean | undefined>, cmd: Command) => {
    localOnly(cmd);
    const flags: RawOptions = {};
    for (const { spec, option } of flagged) {
      const given = opts[option.attributeName()];
      flags[spec.key] = given === true ? 'true' : given === false ? 'false' : given;
    }
    const config = cliConfig(cmd, flags);
    checkLifetime(config.tokenTtl, '--token-ttl', opts.force === true);
    const [{ startLatchkey }, { createLogger }] = await Promise.all([import('../../app.js'), import('../../log/logger.js')]);
    const log = createLogger(config.logLevel, 'stdout', config.logFormat);
    // Handlers first: a signal that arrives while starting (the 'listening' line is already out) still stops cleanly.
    let server: Awaited<ReturnType<typeof startLatchkey>> | null = null;
    let requested: NodeJS.Signals | null = null;
    let stopping = false;
    const stop = (signal: NodeJS.Signals): void => {
      if (server === null) {
        requested ??= signal;
        return;
      }
      if (stopping) return;
      stopping = true;
      // Whoever stopped us (a supervisor, npm, an operator at ^C) sees why we go.
      log.info({ signal }, 'latchkey shutting down');
      const timer = setTimeout(() => {
        process.stderr.write(`error: did not stop within ${STOP_TIMEOUT_MS / 1000}s after ${signal}\n`);
        process.exit(1);
      }, STOP_TIMEOUT_MS);
      timer.unref();
      server.close().then(
        () => {
          log.info({ signal }, 'latchkey stopped');
          log.flush();
          process.exit(0);
        },
        (err: unknown) => process.exit(reportError(err)),
      );
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
    try {
      server = await startLatchkey(config, log);
    } catch (err) {
      // Listeners that did bind (e.g. MQTT before HTTP hit EADDRINUSE) would keep the process alive.
      process.exit(reportError(err));
    }
    if (requested !== null) stop(requested);
  });
}
