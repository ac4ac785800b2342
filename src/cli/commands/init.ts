import type { Command } from 'commander';
import { X509Certificate } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PKI_FILES } from '../../pki/pki_files.js';
import { Store } from '../../store/store.js';
import { describeStore, storeLocation } from '../../store/store_location.js';
import { action, cliConfig, localOnly } from '../context.js';
import { fields } from '../output.js';

/**
 * `latchkey init`: data and certs directories, database, signing key, CA
 * and server certificate. Idempotent; reports what it created and what it found.
 *
 * @example registerInitCommand(program) // latchkey init --data-dir ./data --json
 */
export function registerInitCommand(program: Command): void {
  program
    .command('init')
    .description('create the data and certs directories, database, signing key, CA and server certificate')
    .option('--tls-names <names>', 'names and addresses the server certificate covers, comma separated (env LATCHKEY_TLS_NAMES; default: this host name and its LAN addresses; localhost always)')
    .action(
      action(async (_args, opts, cmd) => {
        localOnly(cmd);
        const config = cliConfig(cmd, typeof opts.tlsNames === 'string' ? { tlsNames: opts.tlsNames } : {});
        const database = describeStore(config);
        // On PostgreSQL (--store) the database is the operator's: it exists before init.
        const databaseExists = config.store !== undefined || existsSync(database);
        const caCert = resolve(join(config.certsDir, PKI_FILES.caCert));
        const serverCert = resolve(join(config.certsDir, PKI_FILES.serverCert));
        const before = {
          database: databaseExists,
          ca: existsSync(caCert),
          server: existsSync(serverCert),
          // The CLI may have made the database before any key existed.
          key: databaseExists && hasSigningKey(storeLocation(config)),
        };
        // The PKI is slow to load; only init and start need it.
        const { initialise } = await import('../../init.js');
        const { store, ring, pki } = await initialise(config);
        store.close();
        const created = [
          ...(before.database ? [] : ['database']),
          ...(before.key ? [] : ['signing key']),
          ...(before.ca ? [] : ['CA']),
          ...(before.server ? [] : ['server certificate']),
        ];
        const json = {
          data_dir: resolve(config.dataDir),
          certs_dir: resolve(config.certsDir),
          database,
          ca_cert: caCert,
          server_cert: serverCert,
          signing_kid: ring.current.kid,
          tls_names: certificateNames(pki.serverCertPem),
          created,
        };
        return {
          json,
          text: [
            created.length === 0 ? 'already initialised; nothing to do' : `created ${created.join(', ')}`,
            fields([
              ['database', database],
              ['CA certificate', caCert],
              ['server certificate', serverCert],
              ['signing key', json.signing_kid],
              ['TLS names', json.tls_names.join(', ')],
            ]),
          ].join('\n'),
        };
      }),
    );
}

function hasSigningKey(location: string): boolean {
  const store = Store.open(location);
  try {
    return store.signingKeys.published(Date.now()).some((k) => k.retiredAt === null);
  } finally {
    store.close();
  }
}

/** What the server certificate in use covers, as devices will check it: `hub.lan`, `192.168.1.10`. */
function certificateNames(certPem: string): string[] {
  const san = new X509Certificate(certPem).subjectAltName ?? '';
  return san
    .split(', ')
    .filter(Boolean)
    .map((entry) => entry.replace(/^(DNS|IP Address):/, ''));
}
