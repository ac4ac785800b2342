import type { Command } from 'commander';
import { parseDuration } from '../../config/duration.js';
import { LatchkeyError } from '../../errors/latchkey_error.js';
import { action, withOperations } from '../context.js';
import type { AuditEntry } from '../operations/operations.js';
import { table } from '../output.js';

const DEFAULT_LIMIT = '50';
const MAX_LIMIT = 100_000;

/**
 * `latchkey audit`: audit events, newest first. `--json` prints JSON Lines,
 * one event per line, so the output streams into jq or a log shipper.
 * `latchkey audit prune --older-than 90d` deletes old events: `{"deleted":N}`.
 *
 * @example registerAuditCommand(program) // latchkey audit --client t1 --since 1h --json
 */
export function registerAuditCommand(program: Command): void {
  const audit = program
    .command('audit')
    .description('show audit events, newest first (--json: one object per line)')
    .option('--client <id>', 'only events about this client (or user, or API key)')
    .option('--event <name>', 'only this event, e.g. client.created or token.issued')
    .option('--since <when>', 'only events this recent (1h, 30m, 7d) or after an ISO 8601 time')
    .option('--limit <n>', 'at most this many events', DEFAULT_LIMIT)
    .action(
      action((_args, opts, cmd) => {
        const limit = parseLimit(String(opts.limit));
        const since = typeof opts.since === 'string' ? parseSince(opts.since, Date.now()) : undefined;
        return withOperations(cmd, async (ops) => {
          const events = await ops.auditEvents({
            limit,
            ...(typeof opts.client === 'string' ? { principal: opts.client } : {}),
            ...(typeof opts.event === 'string' ? { event: opts.event } : {}),
            ...(since !== undefined ? { since } : {}),
          });
          const lines = events.map((e) => ({ ...e }));
          const text =
            events.length === 0
              ? 'no audit events'
              : table([
                  ['TIME', 'EVENT', 'PRINCIPAL', 'OUTCOME', 'REASON'],
                  ...events.map((e) => [e.at, e.event, e.principal ?? '-', e.outcome, reasonText(e)]),
                ]);
          return { jsonLines: lines, text };
        });
      }),
    );

  audit
    .command('prune')
    .description('delete audit events older than a duration (the server also does this past --audit-retention)')
    .requiredOption('--older-than <duration>', 'e.g. 90d, 12w, 24h')
    .action(
      action((_args, opts, cmd) => {
        const olderThan = String(opts.olderThan);
        const seconds = parseDuration(olderThan);
        return withOperations(cmd, async (ops) => {
          const { deleted } = await ops.pruneAudit(seconds, olderThan);
          return { json: { deleted }, text: `deleted ${deleted} audit event(s) older than ${olderThan}` };
        });
      }),
    );
}

/** The reason, and for an aggregated row how many events it stands for and some examples: `… (x37, e.g. home/a, home/b)`. */
function reasonText(e: AuditEntry): string {
  const count = e.count ?? 1;
  if (count === 1) return e.reason ?? '';
  const samples = samplesOf(e);
  return `${e.reason ?? ''} (x${count}${samples ? `, e.g. ${samples.join(', ')}` : ''})`;
}

function samplesOf(e: AuditEntry): string[] | null {
  const samples = e.detail?.samples;
  return Array.isArray(samples) ? samples.map(String) : null;
}

function parseLimit(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > MAX_LIMIT) {
    throw new LatchkeyError('invalid_argument', `--limit "${text}" must be a whole number from 1 to ${MAX_LIMIT}`);
  }
  return n;
}

/**
 * `1h` means "the last hour"; an ISO 8601 time means "since then". Milliseconds since the epoch.
 *
 * @example parseSince('1h', now) // now - 3_600_000
 */
export function parseSince(text: string, now: number): number {
  if (/^\d{4}-\d{2}-\d{2}/.test(text)) {
    const at = Date.parse(text);
    if (Number.isNaN(at)) throw new LatchkeyError('invalid_duration', `--since "${text}" is not a valid time`);
    return at;
  }
  return now - parseDuration(text) * 1000;
}
