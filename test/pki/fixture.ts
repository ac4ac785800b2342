import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { ensurePki } from '../../src/pki/ca.js';

/**
 * A throwaway certs directory with a fresh CA, removed after the file's tests.
 * Each test file gets its own CA, so files can run in parallel.
 */
export async function freshPki(): Promise<Awaited<ReturnType<typeof ensurePki>> & { certsDir: string }> {
  const root = mkdtempSync(join(tmpdir(), 'latchkey-pki-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const certsDir = join(root, 'certs');
  return { ...(await ensurePki(certsDir)), certsDir };
}
