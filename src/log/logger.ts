import { pino, type Logger } from 'pino';
import { prettyStream } from './pretty.js';

export type { Logger };

/**
 * JSON-lines logger, or lines for people with `format` `pretty`. Anything
 * that could hold a credential is redacted by path as a second line of
 * defence; the first is never passing it in.
 *
 * @example const log = createLogger('info'); log.info({ client: 't1' }, 'token issued');
 */
export function createLogger(level: string, destination: NodeJS.WritableStream | 'stdout' = 'stdout', format: 'json' | 'pretty' = 'json'): Logger {
  const out = format === 'pretty' ? prettyStream(destination === 'stdout' ? process.stdout : destination) : destination === 'stdout' ? batchedStdout() : destination;
  return pino(
    {
      level,
      base: { service: 'latchkey' },
      // Top-level paths only: wildcard redaction cost ~20 µs per line on the connect path.
      redact: { paths: ['password', 'token', 'secret', 'client_secret', 'access_token', 'authorization'], censor: '[redacted]' },
    },
    out,
  );
}

/** Longest a log line waits in the buffer. */
const LOG_FLUSH_MS = 250;

/**
 * stdout written asynchronously in batches of 8 KB, and at least every
 * {@link LOG_FLUSH_MS}: a line per connect written one by one was 15% of the
 * broker's CPU in a connect storm. pino flushes the buffer on exit; the audit
 * table, not the log, is the durable record of every decision.
 */
function batchedStdout() {
  const stream = pino.destination({ dest: 1, sync: false, minLength: 8 * 1024 });
  const timer = setInterval(() => {
    // flush() throws while the stream is still opening or already closing; the next tick retries.
    try {
      stream.flush();
    } catch {}
  }, LOG_FLUSH_MS);
  timer.unref();
  return stream;
}
