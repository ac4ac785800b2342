import type { Command } from 'commander';
import { action, CLI_ACTOR, withStore } from '../context.js';
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
        withStore(cmd, async ({ store, audit }) => {
          const retired = store.signingKeys.published(Date.now()).find((k) => k.retiredAt === null)?.kid ?? null;
          // jose loads only for the command that needs it.
          const { rotateSigningKey } = await import('../../keys/key_ring.js');
          const { keyPassphrase } = await import('../../keys/key_sealing.js');
          // Sealed like the others when LATCHKEY_KEY_PASSPHRASE is set; refused if it does not open them.
          const { kid, retiredPublishedUntil } = await rotateSigningKey(store, store.longestTokenTtl(), keyPassphrase());
          const until = new Date(retiredPublishedUntil).toISOString();
          audit.record({ event: 'keys.rotated', outcome: 'success', detail: { actor: CLI_ACTOR, kid, retired_kid: retired } });
          return {
            json: { kid, retired_kid: retired, retired_published_until: retired === null ? null : until },
            text: fields([
              ['new signing key', kid],
              ['retired key', retired === null ? 'none' : `${retired}, published until ${until}`],
            ]),
          };
        }),
      ),
    );
}
