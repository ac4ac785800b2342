import type { MessagePort } from 'node:worker_threads';

/**
 * Messages between the main thread and the PostgreSQL worker
 * (sync_connection.ts and worker.ts). Values cross by structured clone:
 * a Buffer arrives as a Uint8Array and is turned back on the other side.
 */

export interface WorkerStart {
  url: string;
  /** Int32Array over a SharedArrayBuffer: the worker adds 1 after each answer it posts. */
  signal: Int32Array;
  port: MessagePort;
  /** How long the worker waits for a new connection before it answers with an error. */
  connectTimeoutMs: number;
}

export type RequestBody =
  | { kind: 'query'; sql: string; params: unknown[] }
  /** Several statements in one string (schema), no parameters. */
  | { kind: 'exec'; sql: string }
  /** Drop the connection (after a timed-out request, so its transaction dies with it). */
  | { kind: 'reset' }
  | { kind: 'close' };

export type Request = RequestBody & { id: number };

export interface QueryAnswer {
  rows: Record<string, unknown>[];
  /** Column names in order, for `pluck`. */
  fields: string[];
  rowCount: number;
}

export type Answer =
  | { id: number; ok: true; result: QueryAnswer | null }
  | { id: number; ok: false; error: { message: string; code: string | undefined; detail?: string; constraint?: string } };
