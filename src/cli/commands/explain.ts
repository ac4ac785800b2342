import { Argument, type Command } from 'commander';
import { LatchkeyError } from '../../errors/latchkey_error.js';
import { compilePolicy, decide, type Decision, type MqttAction, parseScope, parseScopeString } from '../../policy/index.js';
import type { Store } from '../../store/store.js';
import { action, withStore } from '../context.js';
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
        withStore(cmd, ({ store, config }) => {
          const principal = findPrincipal(store, id!);
          const limits = { maxLevels: config.maxTopicLevels, maxBytes: 65_535 };
          const mqttAction = act as MqttAction;
          let decision: Decision;
          if (principal.status !== 'enabled') {
            decision = { allow: false, reason: `${principal.kind} "${id!}" is ${principal.status}`, scope: null };
          } else {
            decision = decide(compilePolicy(id!, parseScopeString(principal.scope)), mqttAction, topic!, limits);
            if (!decision.allow) decision = { ...decision, scope: missingScope(id!, mqttAction, topic!, limits) };
          }
          const result = { allow: decision.allow, reason: decision.reason, scope: decision.scope };
          return {
            json: result,
            text: fields([
              ['decision', decision.allow ? 'ALLOW' : 'DENY'],
              ['reason', decision.reason],
              [decision.allow ? 'scope' : 'missing scope', decision.scope ?? 'none would allow it'],
            ]),
          };
        }),
      ),
    );
}

/**
 * A device client, a user (the most their PATs may hold) or an API key:
 * names are unique across the three (docs/INTERFACE.md#people-and-integrations).
 *
 * @throws LatchkeyError not_found
 */
function findPrincipal(store: Store, id: string): { kind: 'client' | 'user' | 'API key'; scope: string; status: string } {
  const client = store.clients.get(id);
  if (client) return { kind: 'client', scope: client.scope, status: client.status };
  const user = store.users.get(id);
  if (user) return { kind: 'user', scope: user.scope, status: user.status };
  const key = store.apiKeys.get(id);
  if (key) return { kind: 'API key', scope: key.scope, status: key.status };
  throw new LatchkeyError('not_found', `no client, user or API key "${id}"`);
}

/**
 * The scope that would allow a denied action: `mqtt:<action>:<topic>`,
 * if granting it really would (never for $SYS, invalid topics or another
 * client's $auth topics). Judged by decide() itself, so it cannot drift.
 */
function missingScope(id: string, act: MqttAction, topic: string, limits: { maxLevels: number; maxBytes: number }): string | null {
  try {
    const candidate = parseScope(`mqtt:${act}:${topic}`);
    return decide(compilePolicy(id, [candidate]), act, topic, limits).allow ? candidate.raw : null;
  } catch {
    return null;
  }
}
