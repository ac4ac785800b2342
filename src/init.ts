import type { Config } from './config/options.js';
import { KeyRing } from './keys/key_ring.js';
import { ensurePki } from './pki/ca.js';
import { databasePath } from './store/database.js';
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
 * it refuses to start (`insecure_files`) when they cannot be.
 *
 * @example const { store } = await initialise(config);
 */
export async function initialise(config: Pick<Config, 'dataDir' | 'certsDir'>): Promise<Initialised> {
  // Before anything is read: refuse to run on files others could read or change.
  securePrivateDirectory(config.dataDir);
  securePkiDirectory(config.certsDir);
  const store = Store.open(databasePath(config));
  try {
    const ring = await KeyRing.open(store);
    const pki = await ensurePki(config.certsDir);
    return { store, ring, pki };
  } catch (err) {
    store.close();
    throw err;
  }
}
