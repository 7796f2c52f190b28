/**
 * Durable atomic writes: the file is flushed before it is renamed into place, and its directory
 * after. The order of the system calls is what a power loss tests, so it is checked directly: the
 * fs functions are wrapped (node's `syncBuiltinESMExports` makes the named imports of src/util/atomic.ts
 * see the wrappers) and every open, fsync and rename is recorded.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import * as path from 'node:path';
import { tempDir } from '../helpers.js';
import { writeDirectoryAtomic, writeFileAtomic, writeFileAtomicSync, writeJsonAtomicSync } from '../../src/util/atomic.js';

type Call = [op: string, subject: string];

/** Run `action` with open/fsync/rename recorded (fsync by the path its descriptor was opened with). */
async function recordSyscalls(action: () => unknown): Promise<Call[]> {
  const calls: Call[] = [];
  const paths = new Map<number, string>();
  const original = { openSync: fs.openSync, fsyncSync: fs.fsyncSync, renameSync: fs.renameSync, rename: fs.promises.rename, open: fs.promises.open };
  fs.openSync = ((p: fs.PathLike, ...rest: unknown[]) => {
    const fd = (original.openSync as (...a: unknown[]) => number)(p, ...rest);
    paths.set(fd, String(p));
    return fd;
  }) as typeof fs.openSync;
  fs.fsyncSync = ((fd: number) => {
    calls.push(['fsync', paths.get(fd) ?? `fd ${fd}`]);
    original.fsyncSync(fd);
  }) as typeof fs.fsyncSync;
  fs.renameSync = ((a: fs.PathLike, b: fs.PathLike) => {
    calls.push(['rename', `${path.basename(String(a))} → ${path.basename(String(b))}`]);
    original.renameSync(a, b);
  }) as typeof fs.renameSync;
  fs.promises.rename = (async (a: fs.PathLike, b: fs.PathLike) => {
    calls.push(['rename', `${path.basename(String(a))} → ${path.basename(String(b))}`]);
    await original.rename(a, b);
  }) as typeof fs.promises.rename;
  fs.promises.open = (async (p: fs.PathLike, flags?: string | number) => {
    const handle = await original.open(p, flags);
    const sync = handle.sync.bind(handle);
    handle.sync = async () => {
      calls.push(['fsync', String(p)]);
      await sync();
    };
    return handle;
  }) as typeof fs.promises.open;
  syncBuiltinESMExports();
  try {
    await action();
  } finally {
    Object.assign(fs, { openSync: original.openSync, fsyncSync: original.fsyncSync, renameSync: original.renameSync });
    Object.assign(fs.promises, { rename: original.rename, open: original.open });
    syncBuiltinESMExports();
  }
  return calls;
}

/** Calls with the temporary file names made readable: `.x.json.tmp-<pid>-<n>` → `tmp(x.json)`. */
function readable(calls: Call[], dir: string): Call[] {
  const name = (s: string) => s.replace(/\.([^/ ]+?)\.tmp-\d+-\d+/g, 'tmp($1)');
  return calls.map(([op, subject]) => [op, name(subject === dir ? '<dir>' : subject.startsWith(dir + path.sep) ? path.relative(dir, subject) : subject)]);
}

test('writeFileAtomicSync: fsync the temporary file, rename it into place, then fsync the directory', async () => {
  const dir = tempDir('segloss-atomic-');
  const target = path.join(dir, 'status.json');
  const calls = await recordSyscalls(() => writeJsonAtomicSync(target, { state: 'done' }));
  assert.deepEqual(readable(calls, dir), [
    ['fsync', 'tmp(status.json)'],
    ['rename', 'tmp(status.json) → status.json'],
    ['fsync', '<dir>'],
  ]);
  assert.equal(fs.readFileSync(target, 'utf8'), '{\n  "state": "done"\n}\n');
  assert.deepEqual(fs.readdirSync(dir), ['status.json']);
});

test('writeFileAtomic (async) follows the same order', async () => {
  const dir = tempDir('segloss-atomic-');
  const target = path.join(dir, 'log.jsonl');
  const calls = await recordSyscalls(() => writeFileAtomic(target, '{"epoch":0}\n'));
  assert.deepEqual(readable(calls, dir), [
    ['fsync', 'tmp(log.jsonl)'],
    ['rename', 'tmp(log.jsonl) → log.jsonl'],
    ['fsync', '<dir>'],
  ]);
  assert.equal(fs.readFileSync(target, 'utf8'), '{"epoch":0}\n');
});

test('writeDirectoryAtomic: every file of the new directory is flushed before the swap; the parent after it', async () => {
  const dir = tempDir('segloss-atomic-');
  const target = path.join(dir, 'latest');
  fs.mkdirSync(target);
  fs.writeFileSync(path.join(target, 'weights.bin'), 'old');
  const calls = await recordSyscalls(() =>
    writeDirectoryAtomic(target, async (tmp) => {
      // Files written by other code (e.g. a model saver) without fsync of their own.
      await fs.promises.writeFile(path.join(tmp, 'weights.bin'), 'new');
      await fs.promises.mkdir(path.join(tmp, 'sub'));
      await fs.promises.writeFile(path.join(tmp, 'sub', 'state.json'), '{}');
    }),
  );
  const r = readable(calls, dir);
  const firstRename = r.findIndex(([op]) => op === 'rename');
  const flushedBefore = r.slice(0, firstRename).map(([, s]) => s).sort();
  assert.deepEqual(flushedBefore, ['tmp(latest)', 'tmp(latest)/sub', 'tmp(latest)/sub/state.json', 'tmp(latest)/weights.bin']);
  assert.deepEqual(r.slice(firstRename), [
    ['rename', 'latest → tmp(latest.old)'],
    ['rename', 'tmp(latest) → latest'],
    ['fsync', '<dir>'],
  ]);
  assert.equal(fs.readFileSync(path.join(target, 'weights.bin'), 'utf8'), 'new');
  assert.deepEqual(fs.readdirSync(dir), ['latest']);
});

test('a failed write leaves the old file and no temporary behind', () => {
  const dir = tempDir('segloss-atomic-');
  const target = path.join(dir, 'plans.json');
  writeFileAtomicSync(target, 'old');
  // A directory in the way of the rename makes it fail after the temporary was written.
  const blocked = path.join(dir, 'blocked');
  fs.mkdirSync(path.join(blocked, 'x'), { recursive: true });
  assert.throws(() => writeFileAtomicSync(blocked, 'data'));
  assert.deepEqual(fs.readdirSync(dir).sort(), ['blocked', 'plans.json']);
  assert.equal(fs.readFileSync(target, 'utf8'), 'old');
});
