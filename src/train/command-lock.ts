/**
 * The locks a training command takes before any work (docs/training.md, "Locks"): every run
 * directory it will train into, computed from the arguments alone, so that a second process on the
 * same run stops at once (exit 2, naming the directory and the holder's pid) instead of after
 * synthesizing and preprocessing the data — or, worse, training into the same directory.
 */
import { lockDirectory, type DirectoryLock } from '../util/lock.js';

/** Lock every directory or none: on a refusal the locks already taken are released. Returns the release. */
export function lockRunDirectories(dirs: readonly string[]): () => void {
  const locks: DirectoryLock[] = [];
  const releaseAll = () => {
    for (const l of locks.splice(0).reverse()) l.release();
  };
  try {
    for (const dir of dirs) locks.push(lockDirectory(dir, 'being trained'));
  } catch (err) {
    releaseAll();
    throw err;
  }
  return releaseAll;
}
