/**
 * Directory locks (src/util/lock.ts): one holder at a time across processes, the holder named in
 * the refusal, stale locks of dead processes taken over, re-entrant within a process, released on
 * exit.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync, utimesSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { tempDir, REPO_ROOT } from '../helpers.js';
import { lockDirectory, lockFileFor, lockHolder, tryLockDirectory, type LockHolder } from '../../src/util/lock.js';
import { InputError } from '../../src/util/errors.js';

const root = tempDir('segloss-lock-');
const LOCK_MODULE = path.join(REPO_ROOT, 'dist', 'src', 'util', 'lock.js');

/** A child process that takes `dir`'s lock, prints "locked" and waits for stdin to close. */
function holdInChild(dir: string): { pid: number; locked: Promise<void>; stop: () => Promise<number | null> } {
  const code = `import('${LOCK_MODULE}').then((m) => { m.lockDirectory(${JSON.stringify(dir)}); process.stdout.write('locked\\n'); process.stdin.resume(); process.stdin.on('end', () => process.exit(0)); });`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['pipe', 'pipe', 'inherit'] });
  const locked = new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => d.toString().includes('locked') && resolve());
    child.on('exit', (c) => reject(new Error(`child exited ${c} before locking`)));
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  return { pid: child.pid as number, locked, stop: async () => { child.stdin.end(); return exited; } };
}

test('the lock file sits beside the directory and holds pid, host and start time', () => {
  const dir = path.join(root, 'a', 'run');
  assert.equal(lockFileFor(dir), path.join(root, 'a', '.run.lock'));
  const lock = lockDirectory(dir);
  const content = JSON.parse(readFileSync(lock.file, 'utf8')) as LockHolder;
  assert.equal(content.pid, process.pid);
  assert.equal(content.host, os.hostname());
  assert.ok(Math.abs(Date.parse(content.started) - Date.now()) < 60_000);
  assert.equal(existsSync(dir), false, 'locking does not create the directory');
  lock.release();
  assert.equal(existsSync(lock.file), false);
  lock.release(); // idempotent
});

test('re-entrant within a process: the file goes with the last handle', () => {
  const dir = path.join(root, 'b');
  const outer = lockDirectory(dir);
  const inner = lockDirectory(dir);
  assert.equal(lockHolder(dir)?.pid, process.pid);
  inner.release();
  assert.ok(existsSync(outer.file));
  outer.release();
  assert.equal(existsSync(outer.file), false);
  assert.equal(lockHolder(dir), undefined);
});

test('a lock held by another live process is refused with one line naming the directory and its pid; free again after it exits', async () => {
  const dir = path.join(root, 'c', 'run');
  const child = holdInChild(dir);
  await child.locked;
  const r = tryLockDirectory(dir);
  assert.ok('holder' in r);
  assert.equal(r.holder.pid, child.pid);
  assert.throws(() => lockDirectory(dir), (err: unknown) => {
    assert.ok(err instanceof InputError);
    assert.equal(err.exitCode, 2);
    assert.equal(err.message.includes('\n'), false);
    assert.ok(err.message.startsWith(`${dir}: in use by process ${child.pid} since `), err.message);
    return true;
  });
  assert.equal(await child.stop(), 0);
  assert.equal(existsSync(lockFileFor(dir)), false, 'released on exit');
  lockDirectory(dir).release();
});

test('a stale lock (its process is dead) is taken over; an unreadable one only when old', () => {
  const dir = path.join(root, 'd');
  // A pid that was alive and is not any more: a child that has exited and been reaped.
  const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  const deadPid = Number(dead.stdout);
  assert.ok(deadPid > 0);
  writeFileSync(lockFileFor(dir), JSON.stringify({ pid: deadPid, host: os.hostname(), started: '2020-01-01T00:00:00.000Z' }));
  assert.equal(lockHolder(dir), undefined, 'a dead holder does not count');
  const lock = lockDirectory(dir);
  assert.equal((JSON.parse(readFileSync(lock.file, 'utf8')) as LockHolder).pid, process.pid);
  lock.release();

  // Another host's lock is respected whatever its pid.
  writeFileSync(lockFileFor(dir), JSON.stringify({ pid: deadPid, host: 'elsewhere.example', started: '2020-01-01T00:00:00.000Z' }));
  assert.throws(() => lockDirectory(dir), /in use by process \d+ on elsewhere\.example since 2020-01-01T00:00:00\.000Z/);

  // An empty file: being written right now (respected), or left by a writer that died (after 10 s).
  writeFileSync(lockFileFor(dir), '');
  assert.ok('holder' in tryLockDirectory(dir));
  const old = (Date.now() - 60_000) / 1000;
  utimesSync(lockFileFor(dir), old, old);
  const taken = tryLockDirectory(dir);
  assert.ok(!('holder' in taken));
  taken.release();
});
