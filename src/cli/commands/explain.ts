import { Argument, type Command } from 'commander';
import type { MqttAction } from '../../policy/index.js';
import { action, withOperations } from '../context.js';
import { fields } from '../output.js';

/**
 * `latchkey explain <id> publish|subscribe <topic>`: the broker's own
 * decision, from the same pure decide(), with the reason. On a deny,
 * `scope` names the scope that would allow it, when one could.
 * Exit 0 for allow and deny alike: the decision is the answer.
 *
 * @example registerExplainCommand(program) // latchkey explain t1 publish home/t1/telemetry
 */
export function registerExplainCommand(program: Command): void {
  program
    .command('explain')
    .description('would this client be allowed to publish or subscribe here, and why?')
    .argument('<id>', 'client id, user name or API key name')
    .addArgument(new Argument('<action>', 'what the client does').choices(['publish', 'subscribe']))
    .argument('<topic>', 'topic name (publish) or topic filter (subscribe)')
    .action(
      action(([id, act, topic], _opts, cmd) =>
        withOperations(cmd, async (ops) => {
          const result = await ops.explain(id!, act as MqttAction, topic!);
          return {
            json: { allow: result.allow, reason: result.reason, scope: result.scope },
            text: fields([
              ['decision', result.allow ? 'ALLOW' : 'DENY'],
              ['reason', result.reason],
              [result.allow ? 'scope' : 'missing scope', result.scope ?? 'none would allow it'],
            ]),
          };
        }),
      ),
    );
}
