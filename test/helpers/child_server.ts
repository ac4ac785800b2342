import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { CLI } from './cli.js';

export interface ChildServer {
  child: ChildProcess;
  ports: { http: number; https: number; mqtt: number; mqtts: number; ws: number; wss: number };
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Every stdout line so far (JSON log lines). */
  lines: string[];
  /** SIGKILL, then wait for the exit: what a crash or power cut looks like to the process. */
  crash(): Promise<void>;
}

/**
 * `latchkey start` as a child process on ephemeral ports of 127.0.0.1; the
 * bound ports come from its 'latchkey listening' log line on stdout.
 */
export function startChildServer(dataDir: string, certsDir: string, extra: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<ChildServer> {
  const child = spawn(
    process.execPath,
    [CLI, 'start', '--data-dir', dataDir, '--certs-dir', certsDir, '--host', '127.0.0.1', '--http-port', '0', '--https-port', '0',
      '--mqtt-port', '0', '--mqtts-port', '0', '--ws-port', '0', '--wss-port', '0', '--log-level', 'info',
      // A fixed issuer, as in production: tokens must outlive a restart on new ports.
      '--issuer', 'http://latchkey.test', ...extra],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } },
  );
  const seen: string[] = [];
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => child.on('exit', (code, signal) => done({ code, signal })));
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((done, fail) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      seen.push(line);
      let entry: { msg?: string; ports?: ChildServer['ports'] };
      try {
        entry = JSON.parse(line) as typeof entry;
      } catch {
        return;
      }
      if (entry.msg === 'latchkey listening' && entry.ports) {
        done({
          child,
          ports: entry.ports,
          exited,
          lines: seen,
          async crash() {
            child.kill('SIGKILL');
            await exited;
          },
        });
      }
    });
    void exited.then(({ code }) => fail(new Error(`latchkey start exited ${code}: ${stderr}`)));
  });
}
