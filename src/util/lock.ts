/**
 * An exclusive lock per directory, between processes (docs/training.md, "Locks"): a lock file
 * `.<name>.lock` beside the directory, created atomically (O_CREAT | O_EXCL) and holding the
 * holder's pid, host and start time. It sits beside the directory rather than inside it so that
 * deleting the directory (`train --restart`) keeps it.
 *
 * A lock whose holder is dead on this host is stale and taken over; a lock of another host is
 * always respected (its pid cannot be checked from here). A lock is released by its holder on every
 * exit path: explicitly, and by a process 'exit' hook for the paths that skip `finally` blocks
 * (process.exit after a second Ctrl-C). A SIGKILL leaves the file, which the next process takes over.
 *
 * Locks are re-entrant within a process: taking a lock this process holds returns another handle,
 * and the file goes when the last handle is released (an LR search locks every rate up front, and
 * each training stage locks its own directory again).
 */
import { closeSync, fsyncSync, linkSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fsyncDirectorySync } from './atomic.js';
import { InputError } from './errors.js';
import { processAlive } from './process.js';

/** What a lock file holds. */
export interface LockHolder {
  pid: number;
  host: string;
  /** ISO time the lock was taken. */
  started: string;
}

export interface DirectoryLock {
  /** The locked directory. */
  dir: string;
  /** The lock file. */
  file: string;
  release(): void;
}

/**
 * A lock file that cannot be parsed is one being written right now (created, not yet filled) —
 * or one whose writer died in between. After this long it is the latter, and stale.
 */
const UNREADABLE_STALE_MS = 10_000;

/** Holder of a lock file that cannot be parsed yet. */
const UNKNOWN_HOLDER: LockHolder = { pid: 0, host: 'unknown', started: '' };

/** The lock file of a directory: `<parent>/.<name>.lock`. */
export function lockFileFor(dir: string): string {
  const abs = path.resolve(dir);
  return path.join(path.dirname(abs), `.${path.basename(abs)}.lock`);
}

interface Held {
  file: string;
  holder: LockHolder;
  count: number;
}

/** Locks this process holds, by lock file. */
const held = new Map<string, Held>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const h of held.values()) removeIfOurs(h.file, h.holder);
    held.clear();
  });
}

function parseHolder(text: string): LockHolder | undefined {
  try {
    const v = JSON.parse(text) as Partial<LockHolder>;
    if (typeof v.pid === 'number' && typeof v.host === 'string' && typeof v.started === 'string') return { pid: v.pid, host: v.host, started: v.started };
  } catch {
    // being written, or broken
  }
  return undefined;
}

function sameHolder(a: LockHolder, b: LockHolder): boolean {
  return a.pid === b.pid && a.host === b.host && a.started === b.started;
}

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

function removeIfOurs(file: string, holder: LockHolder): void {
  const now = parseHolder(readText(file) ?? '');
  if (now !== undefined && sameHolder(now, holder)) rmSync(file, { force: true });
}

/** Whether a lock file's holder can no longer hold it: dead on this host, or unreadable for long. */
function isStale(file: string, text: string): boolean {
  const holder = parseHolder(text);
  if (holder === undefined) {
    try {
      return Date.now() - statSync(file).mtimeMs > UNREADABLE_STALE_MS;
    } catch {
      return false;
    }
  }
  if (holder.host !== os.hostname()) return false;
  // Our own pid in a file this process does not hold (see `held`): left by an earlier process
  // that had the same pid (pids are reused, e.g. in containers).
  return holder.pid === process.pid || !processAlive(holder.pid);
}

/**
 * The live holder of a lock file, or undefined when it is free (no file, or a stale one). A lock
 * of another host counts as live; so does one this process holds.
 */
export function lockFileHolder(file: string): LockHolder | undefined {
  const mine = held.get(path.resolve(file));
  if (mine !== undefined) return mine.holder;
  const text = readText(file);
  if (text === undefined || isStale(file, text)) return undefined;
  return parseHolder(text) ?? UNKNOWN_HOLDER;
}

/** The live holder of a directory's lock (see lockFileHolder). */
export function lockHolder(dir: string): LockHolder | undefined {
  return lockFileHolder(lockFileFor(dir));
}

/**
 * Move a stale lock file out of the way. Two processes may find the same stale file: the rename
 * lets only one of them have it, and one that renamed a file which meanwhile became a live lock
 * (another process took the stale lock first) puts it back (link fails if the name was taken).
 */
function takeOverStale(file: string, staleText: string): void {
  const aside = `${file}.stale-${process.pid}-${Date.now()}`;
  try {
    renameSync(file, aside);
  } catch {
    return; // someone else moved it
  }
  if (readText(aside) !== staleText) {
    try {
      linkSync(aside, file);
    } catch {
      // the name was taken again in between: that holder wins
    }
  }
  rmSync(aside, { force: true });
}

function tryCreate(file: string, holder: LockHolder): boolean {
  let fd: number;
  try {
    fd = openSync(file, 'wx');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  try {
    writeSync(fd, JSON.stringify(holder) + '\n');
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  fsyncDirectorySync(path.dirname(file));
  return true;
}

function handle(dir: string, h: Held): DirectoryLock {
  let released = false;
  return {
    dir,
    file: h.file,
    release(): void {
      if (released) return;
      released = true;
      h.count -= 1;
      if (h.count > 0) return;
      held.delete(h.file);
      removeIfOurs(h.file, h.holder);
    },
  };
}

/**
 * Take a lock file if it is free (or stale, or already this process's); returns the lock, or the
 * live holder when another process has it. The file's directory is created when missing.
 */
export function tryLockFile(lockFile: string, dir = lockFile): DirectoryLock | { holder: LockHolder } {
  const file = path.resolve(lockFile);
  const mine = held.get(file);
  if (mine !== undefined) {
    mine.count += 1;
    return handle(dir, mine);
  }
  mkdirSync(path.dirname(file), { recursive: true });
  const holder: LockHolder = { pid: process.pid, host: os.hostname(), started: new Date().toISOString() };
  // A few rounds: each either creates the file, finds a live holder, or clears a stale file.
  for (let attempt = 0; attempt < 5; attempt++) {
    if (tryCreate(file, holder)) {
      installExitHook();
      const h: Held = { file, holder, count: 1 };
      held.set(file, h);
      return handle(dir, h);
    }
    const text = readText(file);
    if (text === undefined) continue; // released in between
    if (!isStale(file, text)) return { holder: parseHolder(text) ?? UNKNOWN_HOLDER };
    takeOverStale(file, text);
  }
  return { holder: parseHolder(readText(file) ?? '') ?? UNKNOWN_HOLDER };
}

/**
 * Take a directory's lock if it is free (or stale, or already this process's); returns the lock,
 * or the live holder when another process has it. The directory itself need not exist.
 */
export function tryLockDirectory(dir: string): DirectoryLock | { holder: LockHolder } {
  return tryLockFile(lockFileFor(dir), path.resolve(dir));
}

/** One line naming the directory and the process that holds it. */
export function lockedMessage(lockFile: string, holder: LockHolder, what = 'in use'): string {
  const where = holder.host === os.hostname() ? '' : ` on ${holder.host}`;
  const since = holder.started === '' ? '' : ` since ${holder.started}`;
  return `${what} by process ${holder.pid}${where}${since} (lock file ${lockFile}); wait for it or stop it first`;
}

/** Take a directory's lock or throw the one-line InputError (exit 2) naming the directory and the holder's pid. */
export function lockDirectory(dir: string, what?: string): DirectoryLock {
  const r = tryLockDirectory(dir);
  if ('holder' in r) throw new InputError(path.resolve(dir), lockedMessage(lockFileFor(dir), r.holder, what));
  return r;
}

/**
 * Take a directory's lock, waiting while another live process holds it (polling every `pollMs`).
 * `onWait` is called once when waiting starts; `check` is called before every poll (e.g. to stop
 * on Ctrl-C by throwing).
 */
export async function lockDirectoryWaiting(dir: string, options: { pollMs?: number; onWait?: (holder: LockHolder) => void; check?: () => void } = {}): Promise<DirectoryLock> {
  let told = false;
  for (;;) {
    options.check?.();
    const r = tryLockDirectory(dir);
    if (!('holder' in r)) return r;
    if (!told) {
      told = true;
      options.onWait?.(r.holder);
    }
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 500));
  }
}
