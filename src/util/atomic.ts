/**
 * Atomic file output: every file segloss writes goes to a temporary sibling first and is renamed
 * into place, so an interrupted run never leaves a half-written file under the final name.
 */
import { promises as fsp, renameSync, writeFileSync, mkdirSync, rmSync, existsSync } from 'node:fs';
import * as path from 'node:path';

let counter = 0;

/** A unique temporary path next to `target` (same directory, so rename is atomic). */
export function temporaryPathFor(target: string): string {
  counter += 1;
  return path.join(path.dirname(target), `.${path.basename(target)}.tmp-${process.pid}-${counter}`);
}

export async function writeFileAtomic(target: string, data: string | Uint8Array): Promise<void> {
  await fsp.mkdir(path.dirname(target), { recursive: true });
  const tmp = temporaryPathFor(target);
  try {
    await fsp.writeFile(tmp, data);
    await fsp.rename(tmp, target);
  } catch (err) {
    await fsp.rm(tmp, { force: true });
    throw err;
  }
}

export function writeFileAtomicSync(target: string, data: string | Uint8Array): void {
  mkdirSync(path.dirname(target), { recursive: true });
  const tmp = temporaryPathFor(target);
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, target);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

export async function writeJsonAtomic(target: string, value: unknown): Promise<void> {
  await writeFileAtomic(target, JSON.stringify(value, null, 2) + '\n');
}

export function writeJsonAtomicSync(target: string, value: unknown): void {
  writeFileAtomicSync(target, JSON.stringify(value, null, 2) + '\n');
}

/**
 * Replace a whole directory atomically: `fill` writes into a temporary sibling directory, which
 * is then renamed over `target` (the old one is moved aside first and removed afterwards).
 */
export async function writeDirectoryAtomic(target: string, fill: (dir: string) => Promise<void>): Promise<void> {
  await fsp.mkdir(path.dirname(target), { recursive: true });
  const tmp = temporaryPathFor(target);
  await fsp.rm(tmp, { recursive: true, force: true });
  await fsp.mkdir(tmp, { recursive: true });
  try {
    await fill(tmp);
  } catch (err) {
    await fsp.rm(tmp, { recursive: true, force: true });
    throw err;
  }
  const old = existsSync(target) ? temporaryPathFor(target + '.old') : undefined;
  if (old !== undefined) await fsp.rename(target, old);
  await fsp.rename(tmp, target);
  if (old !== undefined) await fsp.rm(old, { recursive: true, force: true });
}
