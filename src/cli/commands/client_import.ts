import type { Command } from 'commander';
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { LatchkeyError } from '../../errors/latchkey_error.js';
import { type ImportedClient, importClients, importFormat, parseImport } from '../../registry/client_import.js';
import { action, CLI_ACTOR, cliConfig, withStore } from '../context.js';

/** Larger than any 10,000-row file: a wrong path, not an import. */
const MAX_FILE_BYTES = 16 * 1024 * 1024;

/**
 * `latchkey client import <file.csv|file.json> [--certs <dir>] [--secrets-out <file>]`:
 * many clients in one transaction, all or nothing. Secrets go only to the
 * `--secrets-out` file (created 0600, never overwritten), never to the
 * terminal; certificates and keys to `--certs <dir>` as `<id>.crt`/`<id>.key`.
 *
 * @example registerClientImport(clientCommand) // latchkey client import fleet.csv --secrets-out secrets.json
 */
export function registerClientImport(client: Command): void {
  client
    .command('import')
    .description('create many clients from CSV or JSON in one transaction (all or nothing)')
    .argument('<file>', 'CSV with a header (client_id,scope[,token_ttl][,auth_method]) or JSON (an array of such objects)')
    .option('--secrets-out <file>', 'write the one-time client secrets here (created 0600, never overwritten); required when any client gets a secret')
    .option('--certs <dir>', 'also issue a certificate per client: <dir>/<id>.crt, <id>.key (0600) and ca.crt')
    .option('--cert-days <days>', 'certificate validity in days', '365')
    .action(
      action(async ([file], opts, cmd) => {
        const started = Date.now();
        const rows = parseImport(readImportFile(file!), importFormat(file!));
        const secretsOut = typeof opts.secretsOut === 'string' ? resolve(opts.secretsOut) : null;
        const certsDir = typeof opts.certs === 'string' ? resolve(opts.certs) : null;
        const days = Number(opts.certDays);
        if (!Number.isSafeInteger(days) || days <= 0) throw new LatchkeyError('invalid_argument', `--cert-days must be a whole number of days (got "${String(opts.certDays)}")`);
        if (secretsOut !== null && exists(secretsOut)) throw new LatchkeyError('already_exists', `--secrets-out: ${secretsOut} exists; it is never overwritten`);
        const certificates = certsDir !== null ? await certificateRegistry(cmd) : null;
        return withStore(cmd, async ({ store, audit, registry }) => {
          const written: string[] = [];
          const imported = await importClients(
            registry,
            rows,
            {
              ...(certificates ? { certificates: { registry: certificates(store, audit), days } } : {}),
              deliver: (clients) => {
                const secrets = clients.filter((c) => c.client_secret !== null);
                if (secrets.length > 0 && secretsOut === null) {
                  throw new LatchkeyError('invalid_argument', `${secrets.length} clients get a one-time secret: give --secrets-out <file> (secrets never go to the terminal)`);
                }
                if (secretsOut !== null) {
                  writeNewFile(secretsOut, `${JSON.stringify({ clients: secrets.map((c) => ({ client_id: c.client_id, client_secret: c.client_secret })) }, null, 1)}\n`, 0o600);
                  written.push(secretsOut);
                }
                if (certsDir !== null) written.push(...writeCertificates(certsDir, clients));
              },
              undo: () => removeAll(written),
            },
            CLI_ACTOR,
            (id) => store.nameTaken(id),
          ).catch((err: unknown) => {
            removeAll(written);
            throw err;
          });
          const seconds = (Date.now() - started) / 1000;
          return {
            json: {
              created: imported.length,
              clients: imported.map((c) => ({
                row: c.row,
                line: c.line,
                client_id: c.client_id,
                auth_method: c.auth_method,
                ...(c.certificate ? { certificate_serial: c.certificate.serial, cert: join(certsDir!, `${c.client_id}.crt`), key: join(certsDir!, `${c.client_id}.key`) } : {}),
              })),
              secrets_file: secretsOut,
              certs_dir: certsDir,
              seconds,
            },
            text: [
              `imported ${imported.length} clients in ${seconds.toFixed(1)} s`,
              ...(secretsOut !== null ? [`secrets: ${secretsOut} (0600; move it to the devices, then delete it)`] : []),
              ...(certsDir !== null ? [`certificates and keys: ${certsDir}`] : []),
            ].join('\n'),
          };
        });
      }),
    );
}

/** The certificate registry, loading the PKI (slow to import) only when asked for. */
async function certificateRegistry(cmd: Command) {
  const { CertificateRegistry } = await import('../../registry/certificates.js');
  const { ensurePki } = await import('../../pki/ca.js');
  const { certsDir } = cliConfig(cmd);
  return (store: ConstructorParameters<typeof CertificateRegistry>[0], audit: ConstructorParameters<typeof CertificateRegistry>[1]) =>
    new CertificateRegistry(store, audit, async () => (await ensurePki(certsDir)).ca);
}

function readImportFile(file: string): string {
  try {
    if (statSync(file).size > MAX_FILE_BYTES) throw new LatchkeyError('invalid_argument', `${file} is larger than an import can be`);
    return readFileSync(file, 'utf8');
  } catch (err) {
    if (err instanceof LatchkeyError) throw err;
    throw new LatchkeyError('invalid_argument', `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}

function exists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Creates `path` with `mode` from its first byte, refusing to replace
 * anything; `sync` flushes it to disk before returning (the secrets file:
 * lost secrets cannot be shown again). Certificate files are not synced one
 * by one (2,000 fsyncs cost seconds); a lost one is re-issued with `cert issue`.
 */
function writeNewFile(path: string, data: string, mode: number, sync = true): void {
  let fd: number;
  try {
    fd = openSync(path, 'wx', mode);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new LatchkeyError('already_exists', `${path} exists; it is never overwritten`);
    throw new LatchkeyError('invalid_argument', `cannot create ${path}: ${code ?? String(err)}`);
  }
  try {
    writeSync(fd, data);
    if (sync) fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** `<id>.key` (0600), `<id>.crt` and `ca.crt`; returns what it created, for undo. */
function writeCertificates(dir: string, clients: readonly ImportedClient[]): string[] {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new LatchkeyError('invalid_argument', `--certs: cannot create ${dir}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  const created: string[] = [];
  try {
    const ca = clients.find((c) => c.certificate)?.certificate?.caPem;
    if (ca !== undefined && !exists(join(dir, 'ca.crt'))) {
      writeNewFile(join(dir, 'ca.crt'), ca, 0o644, false);
      created.push(join(dir, 'ca.crt'));
    }
    for (const c of clients) {
      if (!c.certificate) continue;
      const key = join(dir, `${c.client_id}.key`);
      writeNewFile(key, c.certificate.keyPem!, 0o600, false);
      created.push(key);
      const crt = join(dir, `${c.client_id}.crt`);
      writeNewFile(crt, c.certificate.certPem, 0o644, false);
      created.push(crt);
    }
  } catch (err) {
    removeAll(created);
    throw err;
  }
  return created;
}

function removeAll(paths: string[]): void {
  for (const path of paths.splice(0)) {
    try {
      unlinkSync(path);
    } catch {
      // Already gone: nothing to undo.
    }
  }
}
