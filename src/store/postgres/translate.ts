/**
 * SQLite-dialect statements, as the tables write them, into PostgreSQL.
 * Pure; the connection translates each statement once, at prepare.
 *
 * What it changes:
 * - `?` → `$1, $2, …` in order; `@name` → one `$n` per distinct name;
 * - `AS camelCase` → `AS "camelCase"` (PostgreSQL folds unquoted names to
 *   lower case, and the tables' rows are read by their camelCase keys);
 * - `INSERT OR IGNORE INTO …` → `INSERT INTO … ON CONFLICT DO NOTHING`.
 * String literals and quoted identifiers are left alone. Everything else
 * the tables write is already common to both dialects.
 */

export interface TranslatedSql {
  text: string;
  /** For `@name` statements: the name bound to each `$n`, in order; null for positional ones. */
  names: string[] | null;
}

/** @example translate('SELECT a AS aB FROM t WHERE x = ?').text // 'SELECT a AS "aB" FROM t WHERE x = $1' */
export function translate(sql: string): TranslatedSql {
  let text = '';
  let positional = 0;
  const names: string[] = [];
  for (let i = 0; i < sql.length; ) {
    const ch = sql[i]!;
    if (ch === "'" || ch === '"') {
      const end = closingQuote(sql, i);
      text += sql.slice(i, end);
      i = end;
    } else if (ch === '?') {
      text += `$${++positional}`;
      i++;
    } else if (ch === '@' && /[A-Za-z_]/.test(sql[i + 1] ?? '')) {
      const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(sql.slice(i + 1))![0];
      let index = names.indexOf(name);
      if (index < 0) index = names.push(name) - 1;
      text += `$${index + 1}`;
      i += 1 + name.length;
    } else {
      text += ch;
      i++;
    }
  }
  if (positional > 0 && names.length > 0) throw new Error(`a statement mixes ? and @name placeholders: ${sql}`);
  text = text.replace(/\bAS\s+([a-z][A-Za-z0-9_]*)\b/g, (whole, alias: string) => (/[A-Z]/.test(alias) || RESERVED.has(alias) ? `AS "${alias}"` : whole));
  if (/^\s*INSERT\s+OR\s+IGNORE\s+INTO\b/i.test(text)) {
    text = `${text.replace(/^\s*INSERT\s+OR\s+IGNORE\s+INTO\b/i, 'INSERT INTO').replace(/;\s*$/, '')} ON CONFLICT DO NOTHING`;
  }
  return { text, names: names.length > 0 ? names : null };
}

/** Words PostgreSQL reserves that latchkey uses as result names. */
const RESERVED = new Set(['user']);

/**
 * The values for a translated statement, from better-sqlite3-style
 * arguments: the positional list, or one object for `@name`s.
 */
export function bindValues(translated: TranslatedSql, params: readonly unknown[]): unknown[] {
  if (translated.names) {
    const named = (params[0] ?? {}) as Record<string, unknown>;
    return translated.names.map((name) => bindable(named[name]));
  }
  return params.map(bindable);
}

function bindable(value: unknown): unknown {
  if (value === undefined) return null;
  // better-sqlite3 refuses booleans; nothing in latchkey binds one, but a stray one must not become 'true' text.
  if (typeof value === 'boolean') return value ? 1 : 0;
  return value;
}

function closingQuote(sql: string, start: number): number {
  const quote = sql[start]!;
  for (let i = start + 1; i < sql.length; i++) {
    if (sql[i] !== quote) continue;
    if (sql[i + 1] === quote) {
      i++;
      continue;
    }
    return i + 1;
  }
  return sql.length;
}

/** The tables a statement reads or writes (FROM, JOIN, INTO, UPDATE, DELETE FROM), lower case. */
export function tablesOf(sql: string): string[] {
  const found = new Set<string>();
  for (const m of sql.matchAll(/\b(?:FROM|JOIN|INTO|UPDATE)\s+([A-Za-z_][A-Za-z0-9_]*)/gi)) found.add(m[1]!.toLowerCase());
  return [...found];
}
