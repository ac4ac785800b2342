import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LatchkeyError } from '../errors/latchkey_error.js';
import type { ClusterCaTable } from '../store/cluster_ca.js';
import { PKI_FILES } from './pki_files.js';
import { writeFileAtomic } from './write_file_atomic.js';

/**
 * One CA for a cluster on PostgreSQL (docs/CLUSTER.md): the store's CA, if
 * it has one, is written to `certsDir` before `ensurePki` runs (refused when
 * `certsDir` holds another CA); otherwise
 * what `ensurePki` loads or creates there is put into the store. Callers
 * hold the cluster lock around it, so two nodes starting together agree.
 * Each node keeps its own server certificate, signed by the shared CA.
 *
 * @example const pki = await store.oneAtATime('ca', () => withSharedCa(store.clusterCa, certsDir, () => ensurePki(certsDir)));
 */
export async function withSharedCa<T>(table: ClusterCaTable, certsDir: string, ensure: () => Promise<T>): Promise<T> {
  const certPath = join(certsDir, PKI_FILES.caCert);
  const keyPath = join(certsDir, PKI_FILES.caKey);
  const shared = table.get();
  if (shared) {
    // Another CA here signed certificates devices hold, and its key exists nowhere else:
    // never overwrite it. `latchkey migrate` moves a deployment into the store with its CA.
    if (existsSync(certPath) && !sameFile(certPath, shared.certPem)) {
      throw new LatchkeyError(
        'ca_mismatch',
        `${certPath} is a different CA from the one the store's cluster shares; to move this deployment into the store use \`latchkey migrate --to\`, otherwise start with an empty --certs-dir`,
      );
    }
    if (!sameFile(certPath, shared.certPem)) writeFileAtomic(certPath, shared.certPem, 0o644);
    if (!sameFile(keyPath, shared.keyPem)) writeFileAtomic(keyPath, shared.keyPem, 0o600);
  }
  const result = await ensure();
  // As the files now hold it: created here, or sealed on this start.
  table.put({ certPem: readFileSync(certPath, 'utf8'), keyPem: readFileSync(keyPath, 'utf8') }, Date.now());
  return result;
}

function sameFile(path: string, content: string): boolean {
  return existsSync(path) && readFileSync(path, 'utf8') === content;
}
