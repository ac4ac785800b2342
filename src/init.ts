import { mkdirSync } from 'node:fs';
import type { Config } from './config/options.js';
import { KeyRing } from './keys/key_ring.js';
import { ensurePki } from './pki/ca.js';
import { databasePath } from './store/database.js';
import { Store } from './store/store.js';

export interface Initialised {
  store: Store;
  ring: KeyRing;
  pki: Awaited<ReturnType<typeof ensurePki>>;
}

/**
 * `latchkey init`, also run by `start`: data and certs directories, the
 * database at the current schema, a signing key, the CA and the server
 * certificate. Idempotent: what exists is kept.
 *
 * @example const { store } = await initialise(config);
 */
export async function initialise(config: Pick<Config, 'dataDir' | 'certsDir'>): Promise<Initialised> {
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
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
