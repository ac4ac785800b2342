import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * JSON-lines logger. Anything that could hold a credential is redacted by
 * path as a second line of defence; the first is never passing it in.
 *
 * @example const log = createLogger('info'); log.info({ client: 't1' }, 'token issued');
 */
export function createLogger(level: string, destination: NodeJS.WritableStream | 'stdout' = 'stdout'): Logger {
  return pino(
    {
      level,
      base: { service: 'latchkey' },
      // Top-level paths only: wildcard redaction cost ~20 µs per line on the connect path.
      redact: { paths: ['password', 'token', 'secret', 'client_secret', 'access_token', 'authorization'], censor: '[redacted]' },
    },
    // stdout is written asynchronously: lines written while a write is in flight are
    // batched into the next one, so a burst costs few syscalls and an idle server
    // still logs at once. pino flushes it on exit; the audit table, not the log,
    // is the durable record of every decision.
    destination === 'stdout' ? pino.destination({ dest: 1, sync: false }) : destination,
  );
}
