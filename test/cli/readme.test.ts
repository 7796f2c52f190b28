/**
 * The README's quick commands work verbatim: every fenced block whose info string is `sh quick` is
 * run line by line (comments after `#` are part of the shell line, as a user pasting it would
 * have them) with `segloss` on PATH the way `npm link` puts it there, in an empty directory.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync, chmodSync, mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { BIN, REPO_ROOT, tempDir } from '../helpers.js';

/** The lines of the fenced blocks tagged `sh quick`, in order (blank lines dropped). */
export function quickCommands(markdown: string): string[] {
  const out: string[] = [];
  const re = /^```sh quick[ \t]*\n([\s\S]*?)^```[ \t]*$/gm;
  for (const m of markdown.matchAll(re)) for (const line of m[1]!.split('\n')) if (line.trim() !== '') out.push(line);
  return out;
}

test('quickCommands: only `sh quick` blocks, every non-blank line', () => {
  const md = ['```sh', 'npm install', '```', '```sh quick', 'segloss --help', '', 'segloss losses  # list', '```', 'text', '```sh quick', 'segloss doctor', '```'].join('\n');
  assert.deepEqual(quickCommands(md), ['segloss --help', 'segloss losses  # list', 'segloss doctor']);
});

test("README's quick commands run verbatim with segloss on PATH: exit 0 each", { timeout: 300_000 }, () => {
  const commands = quickCommands(readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8'));
  assert.ok(commands.length >= 3, `README has quick commands: ${JSON.stringify(commands)}`);
  assert.ok(commands.every((c) => c.startsWith('segloss ')), 'quick commands are segloss commands');
  const root = tempDir();
  // what `npm link` installs: an executable `segloss` on PATH running bin/segloss.js
  const binDir = path.join(root, 'bin');
  mkdirSync(binDir);
  const shim = path.join(binDir, 'segloss');
  writeFileSync(shim, `#!/bin/sh\nexec '${process.execPath}' '${BIN}' "$@"\n`);
  chmodSync(shim, 0o755);
  const cwd = path.join(root, 'work');
  mkdirSync(cwd);
  for (const command of commands) {
    const r = spawnSync('/bin/sh', ['-c', command], {
      cwd,
      encoding: 'utf8',
      env: { ...process.env, PATH: `${binDir}:${process.env['PATH'] ?? ''}`, NO_COLOR: '1' },
      timeout: 120_000,
    });
    assert.equal(r.status, 0, `${command}\n${r.stderr}`);
    assert.notEqual(r.stdout.trim(), '', `${command} printed its result`);
  }
});
