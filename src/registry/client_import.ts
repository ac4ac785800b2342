import { parse as parseCsv } from 'csv-parse/sync';
import { parseDuration } from '../config/duration.js';
import { LatchkeyError } from '../errors/latchkey_error.js';
import type { ClientAuthMethod } from '../store/clients.js';
import type { CertificateRegistry, IssuedDeviceCertificate } from './certificates.js';
import type { Actor, ClientRegistry, PreparedClient } from './clients.js';

/** The most rows one import takes: a bigger fleet is several imports. */
export const MAX_IMPORT_ROWS = 10_000;

/** The columns a CSV may have (a header row names them); JSON objects take the same keys. */
export const IMPORT_COLUMNS = ['client_id', 'scope', 'token_ttl', 'auth_method'] as const;

/** Methods an import can register: private_key_jwt needs a key file per client, so one by one. */
const IMPORTABLE_METHODS: readonly ClientAuthMethod[] = ['client_secret_basic', 'client_secret_post', 'tls_client_auth'];

/** One row as read, before any check. */
export interface ImportRow {
  /** 1-based position among the rows. */
  row: number;
  /** Line in the CSV file where the row starts; null for JSON. */
  line: number | null;
  fields: Record<string, unknown>;
}

/** Why one row was refused. */
export interface RowProblem {
  row: number;
  line: number | null;
  client_id: string | null;
  error: string;
}

/** An import refused as a whole, with every row's problem; nothing was written. */
export class ImportError extends LatchkeyError {
  constructor(
    readonly problems: readonly RowProblem[],
    readonly rowCount: number,
  ) {
    super('invalid_argument', summary(problems, rowCount));
    this.name = 'ImportError';
  }
}

/** What an import did for one row. */
export interface ImportedClient {
  row: number;
  line: number | null;
  client_id: string;
  auth_method: ClientAuthMethod;
  /** Shown once (in the secrets file or HTTP answer); null for tls_client_auth. */
  client_secret: string | null;
  certificate: IssuedDeviceCertificate | null;
}

/**
 * Reads an import file: CSV with a header row (columns {@link IMPORT_COLUMNS};
 * `client_id` and `scope` required), or JSON (an array of objects, or
 * `{"clients": [...]}`). Structure errors refuse the file.
 *
 * @example parseImport('client_id,scope\nplug-1,mqtt:publish:a\n', 'csv') // [{ row: 1, line: 2, fields: { client_id: 'plug-1', … } }]
 * @throws ImportError
 */
export function parseImport(text: string, format: 'csv' | 'json'): ImportRow[] {
  const rows = format === 'csv' ? parseCsvRows(text) : parseJsonRows(text);
  if (rows.length === 0) throw new ImportError([{ row: 0, line: null, client_id: null, error: 'no rows' }], 0);
  if (rows.length > MAX_IMPORT_ROWS) {
    throw new ImportError([{ row: 0, line: null, client_id: null, error: `more than ${MAX_IMPORT_ROWS} rows; split the file` }], rows.length);
  }
  return rows;
}

/** The format of an import file by its name. */
export function importFormat(fileName: string): 'csv' | 'json' {
  if (/\.csv$/i.test(fileName)) return 'csv';
  if (/\.json$/i.test(fileName)) return 'json';
  throw new LatchkeyError('invalid_argument', `${fileName}: name the file .csv or .json`);
}

function parseCsvRows(text: string): ImportRow[] {
  let records: { record: Record<string, string>; info: { lines: number } }[];
  try {
    records = parseCsv(text, { columns: true, info: true, skip_empty_lines: true, trim: true, bom: true }) as typeof records;
  } catch (err) {
    const e = err as { message: string; lines?: number };
    throw new ImportError([{ row: 0, line: e.lines ?? null, client_id: null, error: `not valid CSV: ${e.message}` }], 0);
  }
  const header = records[0] ? Object.keys(records[0].record) : [];
  const unknown = header.filter((c) => !(IMPORT_COLUMNS as readonly string[]).includes(c));
  if (records.length > 0 && (unknown.length > 0 || !header.includes('client_id') || !header.includes('scope'))) {
    throw new ImportError(
      [{ row: 0, line: 1, client_id: null, error: `the header must name client_id and scope, optionally token_ttl and auth_method${unknown.length ? ` (unknown: ${unknown.join(', ')})` : ''}` }],
      records.length,
    );
  }
  return records.map((r, i) => ({ row: i + 1, line: r.info.lines, fields: r.record }));
}

function parseJsonRows(text: string): ImportRow[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new ImportError([{ row: 0, line: null, client_id: null, error: `not valid JSON: ${(err as Error).message}` }], 0);
  }
  const list = Array.isArray(value) ? value : (value as { clients?: unknown } | null)?.clients;
  if (!Array.isArray(list)) throw new ImportError([{ row: 0, line: null, client_id: null, error: 'expected an array of clients, or {"clients": [...]}' }], 0);
  return list.map((fields, i) => ({ row: i + 1, line: null, fields: (typeof fields === 'object' && fields !== null && !Array.isArray(fields) ? fields : { __not_an_object: true }) as Record<string, unknown> }));
}

/**
 * Checks every row before anything is written: each row's fields (as
 * `client create` would), ids repeated within the file, ids already taken.
 * Returns the prepared clients, or throws with every problem found.
 *
 * @throws ImportError
 */
export function checkImport(rows: readonly ImportRow[], registry: Pick<ClientRegistry, 'prepare'>, isTaken: (id: string) => boolean): PreparedClient[] {
  const problems: RowProblem[] = [];
  const prepared: PreparedClient[] = [];
  const firstRowOf = new Map<string, ImportRow>();
  for (const row of rows) {
    const id = typeof row.fields.client_id === 'string' ? row.fields.client_id : null;
    const problem = (error: string) => problems.push({ row: row.row, line: row.line, client_id: id, error });
    try {
      const input = rowInput(row);
      const client = registry.prepare(input);
      const first = firstRowOf.get(client.id);
      if (first) {
        problem(`duplicate client_id "${client.id}" (also ${first.line !== null ? `line ${first.line}` : `row ${first.row}`})`);
        continue;
      }
      firstRowOf.set(client.id, row);
      if (isTaken(client.id)) {
        problem(`"${client.id}" already exists`);
        continue;
      }
      prepared.push(client);
    } catch (err) {
      if (err instanceof LatchkeyError) problem(err.message);
      else throw err;
    }
  }
  if (problems.length > 0) throw new ImportError(problems, rows.length);
  return prepared;
}

function rowInput(row: ImportRow): Parameters<ClientRegistry['prepare']>[0] {
  const f = row.fields;
  if (f.__not_an_object) throw new LatchkeyError('invalid_argument', 'not an object');
  const extra = Object.keys(f).filter((k) => !(IMPORT_COLUMNS as readonly string[]).includes(k));
  if (extra.length > 0) throw new LatchkeyError('invalid_argument', `unknown field ${extra.join(', ')}`);
  if (typeof f.client_id !== 'string' || f.client_id === '') throw new LatchkeyError('invalid_id', 'client_id is missing');
  if (typeof f.scope !== 'string' || f.scope.trim() === '') throw new LatchkeyError('invalid_scope', 'scope is missing');
  const authMethod = f.auth_method === undefined || f.auth_method === '' ? 'client_secret_basic' : f.auth_method;
  if (typeof authMethod !== 'string' || !(IMPORTABLE_METHODS as readonly string[]).includes(authMethod)) {
    throw new LatchkeyError('invalid_argument', `auth_method must be one of ${IMPORTABLE_METHODS.join(', ')}`);
  }
  let tokenTtl: number | undefined;
  if (f.token_ttl !== undefined && f.token_ttl !== '') {
    tokenTtl = typeof f.token_ttl === 'number' ? f.token_ttl : /^\d+$/.test(String(f.token_ttl)) ? Number(f.token_ttl) : parseDuration(String(f.token_ttl));
    if (!Number.isSafeInteger(tokenTtl) || tokenTtl <= 0) throw new LatchkeyError('invalid_duration', 'token_ttl must be a positive duration, e.g. 10m or 600');
  }
  return { id: f.client_id, scope: f.scope, authMethod: authMethod as ClientAuthMethod, ...(tokenTtl !== undefined ? { tokenTtl } : {}) };
}

export interface ImportOptions {
  /** Issue a certificate (and key) for every client, valid this many days. */
  certificates?: { registry: CertificateRegistry; days?: number };
  /**
   * Runs after everything is checked and signed and before the commit:
   * the CLI writes the secrets file and certificates here. If it throws,
   * nothing is committed; if the commit fails, `undo` runs.
   */
  deliver?: (clients: readonly ImportedClient[]) => void | Promise<void>;
  undo?: () => void;
}

/**
 * Creates many clients at once, all or nothing (CLI `client import`,
 * `POST /admin/clients:batch`): every row checked first, certificates signed
 * in memory, then one durable transaction for the clients, their secrets
 * and certificate records.
 *
 * @example await importClients(clients, parseImport(text, 'csv'), { deliver: writeSecrets }, 'cli')
 * @throws ImportError (per-row problems), LatchkeyError
 */
export async function importClients(registry: ClientRegistry, rows: readonly ImportRow[], opts: ImportOptions, actor: Actor, isTaken: (id: string) => boolean): Promise<ImportedClient[]> {
  const prepared = checkImport(rows, registry, isTaken);
  const certs = opts.certificates ? await opts.certificates.registry.signUnrecorded(prepared.map((p) => p.id), opts.certificates.days) : null;
  const recorded = opts.certificates && certs ? opts.certificates.registry.recordSigned(certs, actor) : null;
  const rowOf = new Map(rows.map((r) => [String(r.fields.client_id), r]));
  const clients: ImportedClient[] = prepared.map((p, i) => ({
    row: rowOf.get(p.id)!.row,
    line: rowOf.get(p.id)!.line,
    client_id: p.id,
    auth_method: p.authMethod,
    client_secret: p.secret,
    certificate: certs?.[i] ?? null,
  }));
  await opts.deliver?.(clients);
  try {
    registry.commitMany(prepared, actor, () => recorded?.inTransaction());
  } catch (err) {
    opts.undo?.();
    if (err instanceof LatchkeyError && err.code === 'already_exists') {
      // Taken between the check and the commit (another process): still a row problem.
      const id = /"(.+)"/.exec(err.message)?.[1] ?? null;
      const row = id !== null ? rowOf.get(id) : undefined;
      throw new ImportError([{ row: row?.row ?? 0, line: row?.line ?? null, client_id: id, error: err.message }], rows.length);
    }
    throw err;
  }
  recorded?.afterCommit();
  return clients;
}

/** One line for the CLI: how many rows failed and the first few problems with their lines. */
function summary(problems: readonly RowProblem[], rowCount: number): string {
  const where = (p: RowProblem) => (p.line !== null ? `line ${p.line}` : p.row > 0 ? `row ${p.row}` : 'file');
  const shown = problems.slice(0, 10).map((p) => `${where(p)}${p.client_id ? ` (${p.client_id})` : ''}: ${p.error}`);
  const more = problems.length > 10 ? `; and ${problems.length - 10} more` : '';
  const head = problems[0]?.row === 0 ? 'import refused' : `import refused, nothing created: ${problems.length} of ${rowCount} rows invalid`;
  return `${head}: ${shown.join('; ')}${more}`;
}
