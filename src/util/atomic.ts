/**
 * Atomic and durable file output: every file segloss writes goes to a temporary sibling first,
 * is flushed to the disk (fsync), and is renamed into place; the directory is then flushed too, so
 * that the rename itself survives a power loss or a kernel crash. An interrupted run never leaves
 * a half-written file under the final name, and a file that was reported written (a "done"
 * status.json, a checkpoint) does not come back empty after a crash.
 *
 * Why not the `write-file-atomic` package: it flushes the file but not the directory, and it names
 * its temporary files by a hash, while segloss relies on the `.<name>.tmp-<pid>-<n>` pattern to
 * recognise and remove the temporaries of a killed process (preprocessing's cache, checkpoints).
 */
import { promises as fsp, closeSync, fsyncSync, openSync, readdirSync, renameSync, writeSync, mkdirSync, rmSync, existsSync, statSync } from 'node:fs';
import * as path from 'node:path';

let counter = 0;

/** A unique temporary path next to `target` (same directory, so rename is atomic). */
export function temporaryPathFor(target: string): string {
  counter += 1;
  return path.join(path.dirname(target), `.${path.basename(target)}.tmp-${process.pid}-${counter}`);
}

/**
 * Flush a directory's entries (a rename or a new file in it) to the disk. Some file systems do not
 * support fsync on a directory (EINVAL, EISDIR on a few platforms): the rename is then as durable
 * as that file system makes it, which is all segloss can do.
 */
export function fsyncDirectorySync(dir: string): void {
  let fd: number;
  try {
    fd = openSync(dir, 'r');
  } catch {
    return;
  }
  try {
    fsyncSync(fd);
  } catch (err) {
    if (!['EINVAL', 'EISDIR', 'EPERM', 'ENOTSUP'].includes((err as NodeJS.ErrnoException).code ?? '')) throw err;
  } finally {
    closeSync(fd);
  }
}

/** Flush a file that is already written (e.g. by a library that wrote it without fsync). */
export function fsyncFileSync(file: string): void {
  const fd = openSync(file, 'r+');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Flush every file and directory under `dir` (a directory filled by several writers), then `dir`. */
function fsyncTreeSync(dir: string): void {
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) fsyncTreeSync(p);
    else fsyncFileSync(p);
  }
  fsyncDirectorySync(dir);
}

/** Write `data` to a new file and flush it before closing. */
function writeDurablySync(file: string, data: string | Uint8Array): void {
  const fd = openSync(file, 'w');
  try {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    let offset = 0;
    while (offset < bytes.length) offset += writeSync(fd, bytes, offset, bytes.length - offset);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

async function writeDurably(file: string, data: string | Uint8Array): Promise<void> {
  const handle = await fsp.open(file, 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export async function writeFileAtomic(target: string, data: string | Uint8Array): Promise<void> {
  await fsp.mkdir(path.dirname(target), { recursive: true });
  const tmp = temporaryPathFor(target);
  try {
    await writeDurably(tmp, data);
    await fsp.rename(tmp, target);
  } catch (err) {
    await fsp.rm(tmp, { force: true });
    throw err;
  }
  fsyncDirectorySync(path.dirname(target));
}

export function writeFileAtomicSync(target: string, data: string | Uint8Array): void {
  mkdirSync(path.dirname(target), { recursive: true });
  const tmp = temporaryPathFor(target);
  try {
    writeDurablySync(tmp, data);
    renameSync(tmp, target);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
  fsyncDirectorySync(path.dirname(target));
}

export async function writeJsonAtomic(target: string, value: unknown): Promise<void> {
  await writeFileAtomic(target, JSON.stringify(value, null, 2) + '\n');
}

export function writeJsonAtomicSync(target: string, value: unknown): void {
  writeFileAtomicSync(target, JSON.stringify(value, null, 2) + '\n');
}

/**
 * Replace a whole directory atomically and durably: `fill` writes into a temporary sibling
 * directory; every file in it is flushed, then it is renamed over `target` (the old one is moved
 * aside first and removed afterwards) and the parent directory is flushed.
 */
export async function writeDirectoryAtomic(target: string, fill: (dir: string) => Promise<void>): Promise<void> {
  await fsp.mkdir(path.dirname(target), { recursive: true });
  const tmp = temporaryPathFor(target);
  await fsp.rm(tmp, { recursive: true, force: true });
  await fsp.mkdir(tmp, { recursive: true });
  try {
    await fill(tmp);
    fsyncTreeSync(tmp);
  } catch (err) {
    await fsp.rm(tmp, { recursive: true, force: true });
    throw err;
  }
  const old = existsSync(target) ? temporaryPathFor(target + '.old') : undefined;
  if (old !== undefined) await fsp.rename(target, old);
  await fsp.rename(tmp, target);
  fsyncDirectorySync(path.dirname(target));
  if (old !== undefined) await fsp.rm(old, { recursive: true, force: true });
}
