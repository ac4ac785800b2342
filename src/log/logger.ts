import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * JSON-lines logger. Anything that could hold a credential is redacted by
 * path as a second line of defence; the first is never passing it in.
 *
 * @example const log = createLogger('info'); log.info({ client: 't1' }, 'token issued');
 */
export function createLogger(level: string, destination: NodeJS.WritableStream = process.stdout): Logger {
  return pino(
    {
      level,
      base: { service: 'latchkey' },
      redact: {
        paths: ['password', 'token', 'secret', 'client_secret', 'access_token', 'authorization', '*.password', '*.token', '*.secret', '*.authorization'],
        censor: '[redacted]',
      },
    },
    destination,
  );
}
