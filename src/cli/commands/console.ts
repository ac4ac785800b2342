import type { Command } from 'commander';
import { LOGIN_LINK_TTL_MS } from '../../console/login_links.js';
import { LatchkeyError } from '../../errors/latchkey_error.js';
import { action, withOperations } from '../context.js';
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
        withOperations(cmd, async (ops) => {
          const user = typeof opts.user === 'string' ? opts.user : null;
          const asked = typeof opts.url === 'string' ? opts.url.replace(/\/+$/, '') : undefined;
          // Checked before the link is minted: a bad --url must not leave a live link nobody can use.
          if (asked !== undefined && !/^https?:\/\/[^\s#?]+$/.test(asked)) throw new LatchkeyError('invalid_argument', `--url "${asked}" must be an http:// or https:// address`);
          const link = await ops.createLoginLink(user);
          const base = (asked ?? link.base).replace(/\/+$/, '');
          const url = `${base}/console/#login=${link.secret}`;
          const json = { url, user: link.user, expires_at: link.expires_at };
          return {
            json,
            text: fields([
              ['url', url],
              ['logs in', link.user === 'operator' && user === null ? 'operator (full access)' : link.user],
              ['valid', `once, for ${LOGIN_LINK_TTL_MS / 60_000} minutes (until ${json.expires_at})`],
            ]),
          };
        }),
      ),
    );
}
