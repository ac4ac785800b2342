import type { Command } from 'commander';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { checkStoreUrl } from '../../config/store_url.js';
import { redactUrl } from '../../config/redact_url.js';
import { LatchkeyError } from '../../errors/latchkey_error.js';
import { PKI_FILES } from '../../pki/pki_files.js';
import type { ClusterCaRecord } from '../../store/cluster_ca.js';
import { Store } from '../../store/store.js';
import { action, CLI_ACTOR, cliConfig, existingDatabase, localOnly } from '../context.js';
import { table } from '../output.js';

/**
 * `latchkey migrate --to postgres://…`: moves a stopped SQLite deployment
 * (`--data-dir`, `--certs-dir`) into an empty PostgreSQL database, CA
 * included, so nodes started with `--store` serve every existing device
 * (docs/CLUSTER.md#moving-up-from-sqlite).
 *
 * @example registerMigrateCommand(program) // latchkey migrate --to postgres://lk@db/lk --json
 */
export function registerMigrateCommand(program: Command): void {
  program
    .command('migrate')
    .description('copy this SQLite deployment (database and CA) into an empty PostgreSQL store, then verify it; stop the node first')
    .requiredOption('--to <url>', 'the PostgreSQL store, postgres://user:password@host:5432/db (an empty database)')
    .action(
      action(async (_args, opts, cmd) => {
        const url = checkStoreUrl(String(opts.to), '--to');
        localOnly(cmd);
        const config = cliConfig(cmd);
        // The source is always SQLite in --data-dir, whatever --store / LATCHKEY_STORE say.
        const databaseFile = existingDatabase(config);
        const ca = readCa(config.certsDir);
        const to = redactUrl(url);

        const source = Store.open(databaseFile);
        try {
          await refuseForeignCa(source, ca, config.certsDir);
          const target = Store.open(url);
          try {
            const { copySqliteToPostgres } = await import('../../store/postgres/copy_from_sqlite.js');
            const report = copySqliteToPostgres({
              source: source.sqlite!,
              target: target.postgres!,
              ca,
              actor: CLI_ACTOR,
              from: databaseFile,
              to,
              now: Date.now(),
            });
            const left = report.left_behind;
            return {
              json: { to, from: databaseFile, tables: report.tables, left_behind: left, verified: true },
              text: [
                table([['TABLE', 'SQLITE', 'POSTGRESQL'], ...Object.entries(report.tables).map(([name, t]) => [name, String(t.source), String(t.copied)])]),
                `verified: every table holds the same rows; the CA from ${resolve(config.certsDir)} is in the store`,
                `not moved (MQTT state): ${left.retained_messages} retained message(s), ${left.persistent_sessions} persistent session(s), ${left.queued_messages} queued message(s)`,
                `next: start every node with LATCHKEY_STORE='${to}' (the password as you gave it)`,
              ].join('\n'),
            };
          } finally {
            target.close();
          }
        } finally {
          source.close();
        }
      }),
    );
}

/**
 * The deployment's CA exactly as its files hold it: the key stays sealed
 * when it is, and nodes on the store need the same LATCHKEY_KEY_PASSPHRASE.
 *
 * @throws LatchkeyError not_initialised (exit 8) when --certs-dir has no CA
 */
function readCa(certsDir: string): ClusterCaRecord {
  const certPath = resolve(join(certsDir, PKI_FILES.caCert));
  const keyPath = resolve(join(certsDir, PKI_FILES.caKey));
  for (const path of [certPath, keyPath]) {
    if (!existsSync(path)) throw new LatchkeyError('not_initialised', `no CA at ${path}: pass the deployment's --certs-dir (devices' certificates must stay valid)`);
  }
  return { certPem: readFileSync(certPath, 'utf8'), keyPem: readFileSync(keyPath, 'utf8') };
}

/**
 * A --certs-dir from another deployment would hand the cluster a CA that
 * signed none of the devices' certificates: refuse it before anything is written.
 *
 * @throws LatchkeyError invalid_option (exit 2)
 */
async function refuseForeignCa(source: Store, ca: ClusterCaRecord, certsDir: string): Promise<void> {
  const issuers = source.certificates.issuers();
  if (issuers.length === 0) return;
  // The PKI is slow to load; only this check needs it.
  const { issuerKeyOfPem } = await import('../../registry/certificates.js');
  if (issuers.includes(issuerKeyOfPem(ca.certPem))) return;
  throw new LatchkeyError(
    'invalid_option',
    `the CA in ${resolve(certsDir)} signed none of the deployment's device certificates: pass the --certs-dir the node used`,
  );
}
