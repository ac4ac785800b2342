import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { CLI_PATH } from './latchkey_cli.js';

export interface ServerPorts {
  mqtt: number;
  mqtts: number;
  http: number;
  https: number;
}

/** One JSON log line of the server (pino). */
export type LogLine = Record<string, unknown> & { msg?: string };

export interface ServerProcess {
  ports: ServerPorts;
  /** SIGTERM, then the exit code (docs/INTERFACE.md#running-the-server: 0 after a clean stop). */
  stop(timeoutMs?: number): Promise<number | null>;
  child: ChildProcess;
}

/**
 * Starts `latchkey start` as a child process on 127.0.0.1 with every port
 * 0, and resolves with the ports it bound, read from its `latchkey
 * listening` log line. Every later log line goes to `onLog` (the demo shows
 * the audit events from it).
 *
 * @example const server = await startServerProcess({ dataDir, certsDir }, ['--expiry-warning', '3s'], (line) => {});
 */
export function startServerProcess(
  dirs: { dataDir: string; certsDir: string },
  extraArgs: string[],
  onLog: (line: LogLine) => void,
  timeoutMs = 20_000,
): Promise<ServerProcess> {
  const args = [CLI_PATH, '--data-dir', dirs.dataDir, '--certs-dir', dirs.certsDir, 'start'];
  args.push('--host', '127.0.0.1', '--mqtt-port', '0', '--mqtts-port', '0', '--ws-port', '0', '--wss-port', '0', '--http-port', '0', '--https-port', '0', '--log-level', 'info', ...extraArgs);
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));

  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const stop = async (stopTimeoutMs = 10_000): Promise<number | null> => {
    if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), stopTimeoutMs);
    const code = await exited;
    clearTimeout(timer);
    return code;
  };

  return new Promise((resolve, reject) => {
    let ready = false;
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`latchkey did not report its ports within ${timeoutMs} ms\n${stderr}`));
    }, timeoutMs);
    void exited.then((code) => {
      if (ready) return;
      clearTimeout(timer);
      reject(new Error(`latchkey exited with ${code} before listening\n${stderr.trim()}`));
    });
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (text) => {
      let line: LogLine;
      try {
        line = JSON.parse(text) as LogLine;
      } catch {
        return; // not a log line
      }
      if (!ready && line.msg === 'latchkey listening' && typeof line.ports === 'object' && line.ports !== null) {
        ready = true;
        clearTimeout(timer);
        resolve({ ports: line.ports as ServerPorts, stop, child });
        return;
      }
      if (ready) onLog(line);
    });
  });
}
