/** scripts/postinstall.mjs: one line when the optional native backends were skipped; never fails an install. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { REPO_ROOT, tempDir } from '../helpers.js';

test('postinstall without the native packages: exit 0 and exactly one line under 100 columns naming docs/gpu.md', () => {
  // a copy of the script outside any node_modules: neither native package resolves from there
  const dir = path.join(tempDir(), 'scripts');
  mkdirSync(dir);
  copyFileSync(path.join(REPO_ROOT, 'scripts', 'postinstall.mjs'), path.join(dir, 'postinstall.mjs'));
  const r = spawnSync(process.execPath, [path.join(dir, 'postinstall.mjs')], { encoding: 'utf8' });
  assert.equal(r.status, 0);
  assert.equal(r.stdout, '');
  assert.equal(r.stderr, 'segloss: optional native backends skipped, using WebAssembly (GPU: docs/gpu.md; segloss doctor)\n');
  assert.ok(r.stderr.trimEnd().length <= 100);
});

test('package.json runs it as postinstall and ships it', async () => {
  const { readFileSync } = await import('node:fs');
  const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string>; files: string[] };
  assert.equal(pkg.scripts['postinstall'], 'node scripts/postinstall.mjs');
  assert.ok(pkg.files.includes('scripts/postinstall.mjs'));
});
