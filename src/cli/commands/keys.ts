import type { Command } from 'commander';
import { action, withOperations } from '../context.js';
import { fields } from '../output.js';

/**
 * `latchkey keys rotate`: a new signing key becomes current; the old public
 * key stays in JWKS until every token it could have signed has expired.
 *
 * @example registerKeysCommands(program) // latchkey keys rotate --json
 */
export function registerKeysCommands(program: Command): void {
  const keys = program.command('keys').description('token signing keys');
  keys
    .command('rotate')
    .description('make a new signing key current; the old one stays published until its tokens expire')
    .action(
      action((_args, _opts, cmd) =>
        withOperations(cmd, async (ops) => {
          const rotated = await ops.rotateKeys();
          return {
            json: { ...rotated },
            text: fields([
              ['new signing key', rotated.kid],
              ['retired key', rotated.retired_kid === null ? 'none' : `${rotated.retired_kid}, published until ${rotated.retired_published_until}`],
            ]),
          };
        }),
      ),
    );
}
