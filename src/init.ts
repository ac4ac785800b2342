import type { Config } from './config/options.js';
import { KeyRing } from './keys/key_ring.js';
import { hostname, networkInterfaces } from 'node:os';
import { keyPassphrase } from './keys/key_sealing.js';
import { ensurePki } from './pki/ca.js';
import { operatorCertificate } from './pki/operator_certificate.js';
import { serverNames } from './pki/server_names.js';
import { withSharedCa } from './pki/shared_ca.js';
import { storeLocation } from './store/store_location.js';
import { securePkiDirectory, securePrivateDirectory } from './store/private_files.js';
import { Store } from './store/store.js';

export interface Initialised {
  store: Store;
  ring: KeyRing;
  pki: Awaited<ReturnType<typeof ensurePki>>;
}

/**
 * `latchkey init`, also run by `start`: data and certs directories, the
 * database at the current schema, a signing key, the CA and the server
 * certificate. Idempotent: what exists is kept, but its file modes are
 * fixed (data directory 0700 and its files 0600, private keys 0600), or
 * it refuses to start (`insecure_files`) when they cannot be. With a
 * passphrase (default: `LATCHKEY_KEY_PASSPHRASE`) the signing keys and the
 * CA key are stored sealed, plaintext ones sealed on the way; a wrong
 * passphrase refuses to start (`bad_passphrase`).
 *
 * @example const { store } = await initialise(config);
 */
export async function initialise(
  config: Pick<Config, 'dataDir' | 'certsDir' | 'store' | 'tlsNames' | 'tlsCert' | 'tlsKey'>,
  passphrase: string | null = keyPassphrase(),
): Promise<Initialised> {
  // Before anything is read: refuse to run on files others could read or change.
  securePrivateDirectory(config.dataDir);
  securePkiDirectory(config.certsDir);
  const store = Store.open(storeLocation(config));
  try {
    const ring = await KeyRing.open(store, passphrase);
    // Re-issued (same CA) when the names change, e.g. the machine got a new address.
    const names = serverNames(config.tlsNames, hostname(), networkInterfaces());
    const ensure = () => ensurePki(config.certsDir, passphrase, names);
    const { clusterCa } = store;
    // Several nodes on one PostgreSQL share one CA (pki/shared_ca.ts); each keeps its own server certificate.
    let pki = clusterCa ? await store.oneAtATime('ca', () => withSharedCa(clusterCa, config.certsDir, ensure)) : await ensure();
    if (config.tlsCert !== undefined || config.tlsKey !== undefined) {
      const own = operatorCertificate(config.tlsCert, config.tlsKey);
      pki = { ...pki, serverCertPem: own.certPem, serverKeyPem: own.keyPem };
    }
    return { store, ring, pki };
  } catch (err) {
    store.close();
    throw err;
  }
}
