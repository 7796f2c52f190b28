import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { linuxProcessState, processAlive } from '../../src/util/process.js';

test('processAlive: a live process is alive; a killed one that nobody reaped yet (a zombie) is not', async () => {
  assert.equal(processAlive(process.pid), true);
  // `sleep 0.5 &` becomes a child of `sleep 10` after the exec; sleep never waits for it, so once it
  // exits it stays a zombie: signal 0 still reaches it, but it is dead. (A child that exits before
  // the exec may be reaped by the shell, so it lives long enough for the exec to happen first.)
  const parent = spawn('sh', ['-c', 'sleep 0.5 & echo $!; exec sleep 10'], { stdio: ['ignore', 'pipe', 'ignore'] });
  const zombie = await new Promise<number>((resolve) => parent.stdout.once('data', (d: Buffer) => resolve(Number(String(d).trim()))));
  const state = () => linuxProcessState(zombie);
  for (const started = Date.now(); state() !== 'Z' && Date.now() - started < 8000; ) await new Promise((r) => setTimeout(r, 50));
  assert.equal(state(), 'Z');
  assert.doesNotThrow(() => process.kill(zombie, 0), 'the zombie answers signal 0');
  assert.equal(processAlive(zombie), false);
  assert.equal(processAlive(parent.pid as number), true);
  parent.kill('SIGKILL');
  await new Promise((r) => parent.on('exit', r));
});
