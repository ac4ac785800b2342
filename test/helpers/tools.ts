import { spawnSync } from 'node:child_process';

/**
 * Whether every named command is on PATH, for tests that drive a real
 * outside tool (mosquitto_pub, openssl, curl, chromium). Outside CI a missing
 * tool makes such a test skip, and its name says so; in CI (`CI` set, as
 * `.ci/run` runs) a missing tool is an error, so a green CI run skipped nothing.
 *
 * @example describe.skipIf(!haveTools('mosquitto_pub'))('… (skipped without mosquitto-clients)', …)
 */
export function haveTools(...tools: string[]): boolean {
  const missing = tools.filter((tool) => spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status !== 0);
  if (missing.length > 0 && process.env.CI) {
    throw new Error(`CI is set but ${missing.join(', ')} is not installed: .ci/run must install it`);
  }
  return missing.length === 0;
}
