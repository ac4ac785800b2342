import type { Command } from 'commander';
import { createLoginLink, LOGIN_LINK_TTL_MS } from '../../console/login_links.js';
import { LatchkeyError } from '../../errors/latchkey_error.js';
import { action, CLI_ACTOR, withStore } from '../context.js';
import { fields } from '../output.js';

/**
 * `latchkey console [--user <name>] [--url <base>]`: prints a one-time
 * login URL for the operator console (valid 5 minutes, single use). The
 * secret rides in the URL fragment (`#login=…`), which browsers never send
 * to a server, log or put in a Referer; the page posts it once and drops it.
 *
 * @example registerConsoleCommand(program) // latchkey console --user alice
 */
export function registerConsoleCommand(program: Command): void {
  program
    .command('console')
    .description('print a one-time login URL for the operator console (5 minutes, single use)')
    .option('--user <name>', 'log in as this user (needs admin:read or admin:write); default: the operator, with full access')
    .option('--url <base>', 'the server as your browser reaches it (default: the issuer, e.g. http://localhost:8080)')
    .action(
      action((_args, opts, cmd) =>
        withStore(cmd, ({ store, audit, config }) => {
          const user = typeof opts.user === 'string' ? opts.user : null;
          const base = (typeof opts.url === 'string' ? opts.url : config.issuer).replace(/\/+$/, '');
          if (!/^https?:\/\/[^\s#?]+$/.test(base)) throw new LatchkeyError('invalid_argument', `--url "${base}" must be an http:// or https:// address`);
          const { secret, expiresAt } = createLoginLink(store, audit, user, CLI_ACTOR, Date.now());
          const url = `${base}/console/#login=${secret}`;
          const json = { url, user: user ?? 'operator', expires_at: new Date(expiresAt).toISOString() };
          return {
            json,
            text: fields([
              ['url', url],
              ['logs in', user ?? 'operator (full access)'],
              ['valid', `once, for ${LOGIN_LINK_TTL_MS / 60_000} minutes (until ${json.expires_at})`],
            ]),
          };
        }),
      ),
    );
}
