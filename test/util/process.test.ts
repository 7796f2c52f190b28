import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { processAlive } from '../../src/util/process.js';

test('processAlive: a live process is alive; a killed one that nobody reaped yet (a zombie) is not', async () => {
  assert.equal(processAlive(process.pid), true);
  // `true &` becomes a child of `sleep` after the exec; sleep never waits for it, so for 3 s it
  // is a zombie: signal 0 still reaches it, but it is dead.
  const parent = spawn('sh', ['-c', 'true & echo $!; exec sleep 3'], { stdio: ['ignore', 'pipe', 'ignore'] });
  const zombie = await new Promise<number>((resolve) => parent.stdout.once('data', (d: Buffer) => resolve(Number(String(d).trim()))));
  await new Promise((r) => setTimeout(r, 300));
  assert.doesNotThrow(() => process.kill(zombie, 0), 'the zombie answers signal 0');
  assert.equal(processAlive(zombie), false);
  assert.equal(processAlive(parent.pid as number), true);
  parent.kill('SIGKILL');
  await new Promise((r) => parent.on('exit', r));
});
