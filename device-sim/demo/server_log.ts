import type { Timeline } from '../timeline.js';
import type { LogLine } from './server_process.js';

interface AuditRecord {
  event: string;
  principal: string | null;
  outcome: string;
  reason: string | null;
  detail: Record<string, unknown> | null;
}

/** Audit events worth a line of their own; everything else is kept quiet. */
const SHOWN: Record<string, (a: AuditRecord) => { kind: string; text: string } | null> = {
  'mqtt.connect': (a) =>
    a.outcome === 'success'
      ? null
      : { kind: 'connect_refused', text: `refused CONNECT from ${a.principal ?? String(a.detail?.client_id ?? '?')}: ${a.reason ?? ''} (CONNACK ${String(a.detail?.connack ?? '?')})` },
  'mqtt.publish_denied': (a) => ({ kind: 'publish_denied', text: `denied ${a.principal} publish to ${String(a.detail?.topic)}: ${a.reason ?? ''}; connection closed` }),
  'mqtt.subscribe_denied': (a) => ({ kind: 'subscribe_denied', text: `denied ${a.principal} subscribe to ${String(a.detail?.topic)}: ${a.reason ?? ''}` }),
  'client.provisioned': (a) => ({
    kind: 'provisioned',
    text: `provisioned ${a.principal} (template ${String(a.detail?.template)}, claim ${String(a.detail?.claim)}${a.detail?.provisioned_by ? `, vouched for by ${String(a.detail.provisioned_by)}` : ''})`,
  }),
  'mqtt.disconnected_by_broker': (a) => ({ kind: 'disconnected_by_broker', text: `ended the session of ${a.principal}: ${a.reason ?? ''}` }),
};

/**
 * Puts the server's audit events (its JSON log lines on stdout) on the
 * timeline under `latchkey`, so the reader sees each refusal from both
 * sides: the device's and the broker's, with the broker's reason.
 *
 * @example startServerProcess(dirs, args, (line) => recordServerLog(timeline, line));
 */
export function recordServerLog(timeline: Timeline, line: LogLine): void {
  const audit = line.audit as AuditRecord | undefined;
  if (audit === undefined || typeof audit.event !== 'string') return;
  const data = { event: audit.event, principal: audit.principal, outcome: audit.outcome, reason: audit.reason, detail: audit.detail };
  const shown = SHOWN[audit.event]?.(audit) ?? null;
  if (shown !== null) timeline.add('latchkey', shown.kind, shown.text, data);
  else timeline.add('latchkey', 'audit', `${audit.event} ${audit.principal ?? ''} ${audit.outcome}`, data, { quiet: true });
}
