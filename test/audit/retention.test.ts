import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { startLatchkey } from '../../src/app.js';
import { loadConfig } from '../../src/config/load_config.js';
import { createLogger } from '../../src/log/logger.js';
import type { AuditEvent } from '../../src/store/audit.js';
import { Store } from '../../src/store/store.js';
import { runCli, tempDir } from '../helpers/latchkey.js';
import { eventually } from '../helpers/mqtt.js';

const DAY = 86_400_000;
const roots: string[] = [];
afterAll(() => roots.forEach((root) => rmSync(root, { recursive: true, force: true })));

function event(name: string, at: number): AuditEvent {
  return { at, event: name, principal: 'old-device', outcome: 'success', reason: null, remote: null, detail: null };
}

/** A data directory whose audit table holds `old` events 100 days old and `recent` from an hour ago. */
function seeded(old: number, recent: number): { dataDir: string; certsDir: string } {
  const root = tempDir();
  roots.push(root);
  const dataDir = join(root, 'data');
  const store = Store.open(join(dataDir, 'latchkey.db'));
  const now = Date.now();
  store.audit.insertMany([
    ...Array.from({ length: old }, () => event('test.old', now - 100 * DAY)),
    ...Array.from({ length: recent }, () => event('test.recent', now - 3600_000)),
  ]);
  store.close();
  return { dataDir, certsDir: join(root, 'certs') };
}

function countOf(dataDir: string, name: string): number {
  const store = Store.open(join(dataDir, 'latchkey.db'));
  try {
    return store.audit.query({ event: name, limit: 100_000 }).length;
  } finally {
    store.close();
  }
}

describe('--audit-retention', () => {
  test('the running server deletes events older than the retention, keeps newer ones, and audits the deletion', async () => {
    const dirs = seeded(12_000, 7);
    const config = loadConfig(
      { ...dirs, host: '127.0.0.1', mqttPort: '0', mqttsPort: '0', wsPort: '0', wssPort: '0', httpPort: '0', httpsPort: '0', logLevel: 'silent', auditRetention: '30d' },
      {},
    );
    const server = await startLatchkey(config, createLogger('silent'));
    try {
      await eventually(() => server.store.audit.query({ event: 'audit.pruned', limit: 1 }).length === 1 || (server.audit.flush(), false), 10_000, 'the prune at start');
      const [pruned] = server.store.audit.query({ event: 'audit.pruned', limit: 1 });
      expect(pruned?.detail).toEqual({ actor: 'retention', older_than: '30d', deleted: 12_000 });
      expect(server.store.audit.query({ event: 'test.old', limit: 10 })).toHaveLength(0);
      expect(server.store.audit.query({ event: 'test.recent', limit: 10 })).toHaveLength(7);
    } finally {
      await server.close();
    }
  });

  test('defaults to 90 days, from the flag or LATCHKEY_AUDIT_RETENTION; 0 keeps everything', () => {
    expect(loadConfig({}, {}).auditRetention).toBe(90 * 86_400);
    expect(loadConfig({}, { LATCHKEY_AUDIT_RETENTION: '7d' }).auditRetention).toBe(7 * 86_400);
    expect(loadConfig({ auditRetention: '12h' }, { LATCHKEY_AUDIT_RETENTION: '7d' }).auditRetention).toBe(12 * 3600);
    expect(() => loadConfig({ auditRetention: 'forever' }, {})).toThrow(/--audit-retention/);
  });
});

describe('latchkey audit prune', () => {
  test('--older-than deletes older events and prints {"deleted":N}; the prune is itself audited', async () => {
    const { dataDir, certsDir } = seeded(25, 3);
    const result = await runCli(['--data-dir', dataDir, '--certs-dir', certsDir, 'audit', 'prune', '--older-than', '30d', '--json']);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ deleted: 25 });
    expect(countOf(dataDir, 'test.old')).toBe(0);
    expect(countOf(dataDir, 'test.recent')).toBe(3);
    const audited = await runCli(['--data-dir', dataDir, '--certs-dir', certsDir, 'audit', '--event', 'audit.pruned', '--json']);
    expect(JSON.parse(audited.stdout.trim())).toMatchObject({ event: 'audit.pruned', detail: { actor: 'cli', older_than: '30d', deleted: 25 } });
  });

  test('a bad duration exits 2 and deletes nothing', async () => {
    const { dataDir, certsDir } = seeded(4, 0);
    const result = await runCli(['--data-dir', dataDir, '--certs-dir', certsDir, 'audit', 'prune', '--older-than', 'soon', '--json']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^error: .*duration/);
    expect(countOf(dataDir, 'test.old')).toBe(4);
  });
});
