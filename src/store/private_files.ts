import { chmodSync, closeSync, existsSync, lstatSync, mkdirSync, openSync, readdirSync, type Stats, statSync } from 'node:fs';
import { join } from 'node:path';
import { LatchkeyError } from '../errors/latchkey_error.js';

/** Directories holding secrets: only their owner may list or enter them. */
export const PRIVATE_DIR_MODE = 0o700;
/** Files holding secrets (the database, its -wal and -shm, private keys). */
export const PRIVATE_FILE_MODE = 0o600;

/**
 * Makes `dir` (created if missing) and everything in it private to the user
 * running latchkey: the directory and its subdirectories 0700, every file
 * 0600, whatever modes an older version, a restore or a hand-made `mkdir`
 * left. `latchkey init` and `start` call it on `--data-dir`: the database
 * holds the signing keys and every hashed secret.
 *
 * Refuses (`insecure_files`) rather than run on files it cannot make
 * private: a directory or file owned by another user, a symbolic link
 * (which could point anywhere), or a chmod that fails.
 *
 * @example securePrivateDirectory('./data') // ./data 0700, ./data/latchkey.db 0600
 * @throws LatchkeyError insecure_files
 */
export function securePrivateDirectory(dir: string): void {
  makeDirectory(dir);
  secureTree(dir);
}

/**
 * `--certs-dir`: certificates are public, keys are not. The directory is
 * created 0700; an existing one keeps the read and search bits its operator
 * gave it (other users may need `ca.crt`) but loses group and world write.
 * Every `*.key` file is made 0600, other files lose group and world write.
 * Same refusals as {@link securePrivateDirectory}.
 *
 * @example securePkiDirectory('./certs') // ./certs/ca.key 0600, ./certs/ca.crt 0644 stays
 * @throws LatchkeyError insecure_files
 */
export function securePkiDirectory(dir: string): void {
  makeDirectory(dir);
  const st = ownedDirectory(dir);
  setMode(dir, st.mode & 0o7755 & ~0o022);
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    const file = ownedEntry(path);
    if (file.isDirectory()) continue;
    setMode(path, entry.endsWith('.key') ? PRIVATE_FILE_MODE : file.mode & 0o755);
  }
}

/**
 * Creates `file` empty with mode 0600 unless it exists, so that SQLite,
 * which gives its -wal and -shm files the database file's mode, never
 * makes any of them readable by others, whatever the umask.
 *
 * @example createPrivateFile('./data/latchkey.db')
 */
export function createPrivateFile(file: string): void {
  if (existsSync(file)) return;
  closeSync(openSync(file, 'a', PRIVATE_FILE_MODE));
}

/**
 * Best effort: 0600 on each of `files` that exists and is ours. For the
 * CLI, which opens the database without the full checks `start` makes.
 *
 * @example tightenFiles(['data/latchkey.db', 'data/latchkey.db-wal'])
 */
export function tightenFiles(files: readonly string[]): void {
  const uid = process.getuid?.();
  for (const file of files) {
    try {
      const st = lstatSync(file);
      if (st.isFile() && (uid === undefined || st.uid === uid) && (st.mode & 0o777) !== PRIVATE_FILE_MODE) chmodSync(file, PRIVATE_FILE_MODE);
    } catch {
      // Missing (no -wal yet) or not ours: start and init refuse the latter loudly.
    }
  }
}

function makeDirectory(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  } catch (err) {
    throw insecure(`cannot create ${dir}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}

function secureTree(dir: string): void {
  ownedDirectory(dir);
  setMode(dir, PRIVATE_DIR_MODE);
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    const st = ownedEntry(path);
    if (st.isDirectory()) secureTree(path);
    else setMode(path, PRIVATE_FILE_MODE);
  }
}

function ownedDirectory(dir: string): Stats {
  const st = statSync(dir);
  if (!st.isDirectory()) throw insecure(`${dir} is not a directory`);
  checkOwner(dir, st.uid);
  return st;
}

/** An entry we may secure: ours, and a real file or directory rather than a link to somewhere else. */
function ownedEntry(path: string): Stats {
  const st = lstatSync(path);
  if (st.isSymbolicLink()) throw insecure(`${path} is a symbolic link; keep the real file in the directory (or link the whole directory)`);
  if (!st.isFile() && !st.isDirectory()) throw insecure(`${path} is neither a file nor a directory`);
  checkOwner(path, st.uid);
  return st;
}

function checkOwner(path: string, owner: number): void {
  const uid = process.getuid?.();
  if (uid === undefined || owner === uid) return;
  throw insecure(`${path} is owned by uid ${owner}, not by the user running latchkey (uid ${uid}); chown it or run latchkey as its owner`);
}

function setMode(path: string, mode: number): void {
  if ((statSync(path).mode & 0o7777) === mode) return;
  try {
    chmodSync(path, mode);
  } catch (err) {
    throw insecure(`cannot set mode ${mode.toString(8)} on ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}

function insecure(message: string): LatchkeyError {
  return new LatchkeyError('insecure_files', message);
}
