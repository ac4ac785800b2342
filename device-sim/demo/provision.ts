import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { latchkeyJson, runLatchkey } from './latchkey_cli.js';

type Dirs = { dataDir: string; certsDir: string };

/**
 * `latchkey client create <id> --scope … --json`: the secret is shown once,
 * so the demo keeps it in memory only.
 *
 * @example const secret = await createClient(dirs, 'hub', SCOPES.hub, '8s');
 */
export async function createClient(dirs: Dirs, id: string, scope: string, opts: { tokenTtl?: string; authMethod?: string } = {}): Promise<string | null> {
  const args = ['client', 'create', id, '--scope', scope];
  // The demo's tokens live seconds on purpose, to show renewal: --force allows that.
  if (opts.tokenTtl) args.push('--token-ttl', opts.tokenTtl, '--force');
  if (opts.authMethod) args.push('--auth-method', opts.authMethod);
  const created = await latchkeyJson<{ client_id: string; client_secret: string | null }>(dirs, args);
  return created.client_secret;
}

/** PEM text, or a path to read it from (the CLI may print either). */
function pem(value: string, dir: string): string {
  if (value.includes('-----BEGIN')) return value;
  const path = existsSync(value) ? value : join(dir, value);
  return readFileSync(path, 'utf8');
}

/**
 * A device certificate and key for `id`, from `latchkey cert issue`: the
 * only way to a certificate the broker accepts, because latchkey accepts
 * just the certificates it recorded as issued (one signed with the CA key
 * elsewhere is refused). Devices never see the CA key.
 *
 * @example const { cert, key } = await issueCertificate(dirs, 'thermostat-2', outDir);
 */
export async function issueCertificate(dirs: Dirs, id: string, outDir: string): Promise<{ cert: string; key: string; via: 'cli' }> {
  const run = await runLatchkey(dirs, ['cert', 'issue', id, '--out', outDir, '--days', '1', '--json']);
  if (run.code !== 0) throw new Error(`latchkey cert issue failed: ${run.stderr.trim()}`);
  const issued = JSON.parse(run.stdout) as { cert: string; key: string };
  return { cert: pem(issued.cert, outDir), key: pem(issued.key, outDir), via: 'cli' };
}
