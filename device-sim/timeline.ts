import type { DeviceEvent } from './lib/index.js';

/** One thing that happened, as the demo prints it and the e2e test reads it. */
export interface TimelineEntry {
  /** Milliseconds since the timeline started. */
  t: number;
  /** Who: a device id, `latchkey` (the server's audit log), `operator` or `demo`. */
  actor: string;
  /** What, machine-readable: `connected`, `telemetry`, `renewed`, `publish_denied`, … */
  kind: string;
  /** What, for people. */
  text: string;
  data?: Record<string, unknown>;
  /** Recorded and checked, but not printed in the human-readable timeline (telemetry is chatty). */
  quiet?: boolean;
}

export interface TimelineOptions {
  /** One JSON object per line instead of text. */
  json?: boolean;
  /** ANSI colours; default: when the output is a terminal and NO_COLOR is unset. */
  colour?: boolean;
  out?: NodeJS.WritableStream & { isTTY?: boolean };
}

const RESET = '\x1b[0m';
const DIM = '\x1b[2m';
const BOLD = '\x1b[1m';
const COLOURS: Record<string, string> = {
  latchkey: '\x1b[35m',
  operator: '\x1b[33m',
  demo: '\x1b[1m',
  hub: '\x1b[36m',
  rogue: '\x1b[31m',
};
const DEVICE_COLOURS = ['\x1b[32m', '\x1b[34m', '\x1b[96m', '\x1b[92m'];
/** Kinds that mean something was refused: printed in red whoever the actor is. */
const REFUSALS = new Set(['refused', 'denied', 'publish_denied', 'subscribe_denied', 'token_error', 'connect_refused', 'disconnected_by_broker']);

/**
 * The demo's record of events: kept in memory for the checks and printed as
 * it happens, either as aligned, coloured text or as JSON lines.
 *
 * @example
 * const timeline = new Timeline({ out: process.stdout });
 * timeline.add('hub', 'connected', 'connected over MQTT with a JWT');
 */
export class Timeline {
  readonly entries: TimelineEntry[] = [];
  private readonly started = Date.now();
  private readonly out: NodeJS.WritableStream & { isTTY?: boolean };
  private readonly json: boolean;
  private readonly colour: boolean;
  private readonly actorColours = new Map<string, string>();

  constructor(opts: TimelineOptions = {}) {
    this.out = opts.out ?? process.stdout;
    this.json = opts.json === true;
    this.colour = opts.colour ?? (this.out.isTTY === true && process.env.NO_COLOR === undefined);
  }

  add(actor: string, kind: string, text: string, data?: Record<string, unknown>, opts: { quiet?: boolean } = {}): TimelineEntry {
    const entry: TimelineEntry = { t: Date.now() - this.started, actor, kind, text, ...(data ? { data } : {}), ...(opts.quiet ? { quiet: true } : {}) };
    this.entries.push(entry);
    if (this.json) this.out.write(`${JSON.stringify(entry)}\n`);
    else if (!entry.quiet) this.out.write(`${this.format(entry)}\n`);
    return entry;
  }

  /** A line of text outside the timeline (headings, the summary); JSON mode writes it as `{"note"}`. */
  note(text: string, style: 'plain' | 'bold' | 'dim' = 'plain'): void {
    if (this.json) {
      this.out.write(`${JSON.stringify({ note: text })}\n`);
      return;
    }
    const code = style === 'bold' ? BOLD : style === 'dim' ? DIM : '';
    this.out.write(this.colour && code ? `${code}${text}${RESET}\n` : `${text}\n`);
  }

  /** Colours text when colour is on: `paint('ok', 'green')`. */
  paint(text: string, colour: 'green' | 'red' | 'dim'): string {
    if (!this.colour) return text;
    const code = colour === 'green' ? '\x1b[32m' : colour === 'red' ? '\x1b[31m' : DIM;
    return `${code}${text}${RESET}`;
  }

  /** Entries matching actor and kind (either may be omitted). */
  find(filter: { actor?: string; kind?: string }): TimelineEntry[] {
    return this.entries.filter((e) => (filter.actor === undefined || e.actor === filter.actor) && (filter.kind === undefined || e.kind === filter.kind));
  }

  private format(entry: TimelineEntry): string {
    const time = `${(entry.t / 1000).toFixed(2).padStart(6)}s`;
    const actor = entry.actor.padEnd(13);
    if (!this.colour) return `${time}  ${actor} ${entry.text}`;
    const colour = this.colourOf(entry.actor);
    const text = REFUSALS.has(entry.kind) ? `\x1b[31m${entry.text}${RESET}` : entry.text;
    return `${DIM}${time}${RESET}  ${colour}${actor}${RESET} ${text}`;
  }

  private colourOf(actor: string): string {
    const fixed = COLOURS[actor];
    if (fixed !== undefined) return fixed;
    let colour = this.actorColours.get(actor);
    if (colour === undefined) {
      colour = DEVICE_COLOURS[this.actorColours.size % DEVICE_COLOURS.length]!;
      this.actorColours.set(actor, colour);
    }
    return colour;
  }
}

/**
 * Records a device library event on the timeline in words.
 *
 * @example device.on('event', (e) => recordDeviceEvent(timeline, 'thermostat-1', e));
 */
export function recordDeviceEvent(timeline: Timeline, actor: string, e: DeviceEvent): void {
  const jti = (id: string | undefined): string => (id ? ` (jti ${id.slice(0, 8)}…)` : '');
  const inSeconds = (at: number): string => `${Math.max(0, Math.round((at - Date.now()) / 1000))}s`;
  switch (e.type) {
    case 'token_fetched':
      return void timeline.add(actor, e.type, `token from the token endpoint${jti(e.jti)}, expires in ${inSeconds(e.expiresAt)}`, { jti: e.jti, scope: e.scope });
    case 'token_error':
      return void timeline.add(actor, e.type, `token endpoint refused: ${e.error}${e.status !== null ? ` (HTTP ${e.status})` : ''}${e.description ? ` – ${e.description}` : ''}`, { error: e.error, status: e.status });
    case 'connecting':
      return void timeline.add(actor, e.type, `connecting to ${e.url} (${e.mode === 'jwt' ? 'JWT' : 'certificate'}, attempt ${e.attempt})`, { mode: e.mode, attempt: e.attempt }, { quiet: true });
    case 'connected':
      return void timeline.add(actor, e.type, e.mode === 'jwt' ? `connected over MQTT with a JWT${jti(e.jti)}` : 'connected over MQTTS with its device certificate', { mode: e.mode, jti: e.jti });
    case 'refused':
      return void timeline.add(actor, e.type, `connection refused: CONNACK ${e.returnCode} (${e.reason})`, { returnCode: e.returnCode });
    case 'disconnected':
      return void timeline.add(actor, e.type, `disconnected: ${e.reason}`, { reason: e.reason });
    case 'reconnecting':
      return void timeline.add(actor, e.type, `reconnecting in ${(e.delayMs / 1000).toFixed(1)}s${e.freshToken ? ' with a fresh token' : ''}`, { delayMs: e.delayMs, freshToken: e.freshToken }, { quiet: true });
    case 'expiring':
      return void timeline.add(actor, e.type, `$auth: token expires in ${e.secondsLeft}s`, { secondsLeft: e.secondsLeft });
    case 'renewed':
      return void timeline.add(actor, e.type, `token renewed ${e.via === 'mqtt' ? 'over MQTT' : 'by reauth'}${jti(e.jti)}, same session, expires in ${inSeconds(e.expiresAt)}`, { via: e.via, jti: e.jti });
    case 'renew_failed':
      return void timeline.add(actor, e.type, `renewal ${e.via === 'mqtt' ? 'over MQTT' : e.via === 'certificate' ? 'of its certificate' : 'by reauth'} failed: ${e.error}`, { via: e.via, error: e.error });
    case 'certificate_renewed':
      return void timeline.add(actor, e.type, `certificate renewed over MQTT for a new key, valid until ${e.notAfter}`, { notAfter: e.notAfter });
    case 'denied':
      return void timeline.add(actor, e.type, `subscription to ${e.topic} refused (SUBACK 0x80)`, { action: e.action, topic: e.topic });
    case 'error':
      return void timeline.add(actor, e.type, e.message, undefined, { quiet: true });
    case 'closed':
      return void timeline.add(actor, e.type, 'closed', undefined, { quiet: true });
  }
}
