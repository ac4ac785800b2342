import { Writable } from 'node:stream';

/** pino's numeric levels, as people read them. */
const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };

/** Fields every line has, shown in the prefix or not at all. */
const PREFIX_FIELDS = new Set(['time', 'level', 'msg', 'pid', 'hostname', 'service']);

/**
 * One JSON log line as a line for people: `HH:MM:SS.mmm LEVEL message key=value …`
 * (UTC). Values that are not plain words are JSON-quoted so the line stays
 * unambiguous; a line that is not JSON passes through unchanged.
 *
 * @example formatPretty('{"level":30,"time":0,"msg":"token issued","client":"t1"}') // '00:00:00.000 INFO  token issued client=t1'
 */
export function formatPretty(line: string): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  if (entry === null || typeof entry !== 'object') return line;
  const time = typeof entry.time === 'number' ? new Date(entry.time).toISOString().slice(11, 23) : '--:--:--.---';
  const level = (LEVELS[entry.level as number] ?? String(entry.level ?? '')).padEnd(5);
  const pairs = Object.entries(entry)
    .filter(([key]) => !PREFIX_FIELDS.has(key))
    .map(([key, value]) => `${key}=${show(value)}`);
  return [time, level, typeof entry.msg === 'string' ? entry.msg : '', ...pairs].filter((part) => part !== '').join(' ');
}

function show(value: unknown): string {
  if (typeof value === 'string' && /^[\w.:/@+-]+$/.test(value)) return value;
  if (value instanceof Object && 'stack' in value && typeof value.stack === 'string') return JSON.stringify(value.stack);
  return JSON.stringify(value) ?? 'undefined';
}

/**
 * A stream pino can write JSON lines to that writes {@link formatPretty}
 * lines to `out`. Built in, so `--log-format pretty` needs no transport or
 * extra package.
 *
 * @example pino({}, prettyStream(process.stdout))
 */
export function prettyStream(out: NodeJS.WritableStream): Writable {
  let pending = '';
  return new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      pending += chunk.toString();
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      if (lines.length > 0) out.write(lines.map((l) => `${formatPretty(l)}\n`).join(''));
      done();
    },
    final(done) {
      if (pending !== '') out.write(`${formatPretty(pending)}\n`);
      done();
    },
  });
}
