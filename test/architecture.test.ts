/**
 * The stage order of docs/architecture.md, checked on the imports: a stage imports only the stages
 * before it and util; cli/ and index.ts sit on top and may import any stage. A new folder under
 * src/ must be placed in STAGE_ORDER (and in the doc's table) before it can be imported.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { REPO_ROOT } from './helpers.js';

/** The pipeline's stages in data-flow order (docs/architecture.md, "Stage order"). */
export const STAGE_ORDER = ['util', 'ndimage', 'data', 'engine', 'model', 'losses', 'preprocess', 'train', 'eval', 'export', 'rank', 'study'] as const;
/** What sits on top of every stage. */
const TOP = ['cli', 'index.ts'];

const SRC = path.join(REPO_ROOT, 'src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name);
    return statSync(p).isDirectory() ? sourceFiles(p) : name.endsWith('.ts') ? [p] : [];
  });
}

/** The top-level entry of src/ a file belongs to: its stage folder, or 'index.ts'. */
function stageOf(file: string): string {
  return path.relative(SRC, file).split(path.sep)[0] as string;
}

/** Relative module specifiers of every static import/export and dynamic import of a file. */
export function relativeImports(source: string): string[] {
  const found: string[] = [];
  for (const m of source.matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*|^\s*import\s+)(['"])(\.{1,2}\/[^'"]+)\1/gm)) found.push(m[2] as string);
  return found;
}

/** Imports of src/ that break the stage order: `file → imported stage`. */
function violations(): string[] {
  const rank = new Map<string, number>(STAGE_ORDER.map((s, i) => [s, i]));
  const bad: string[] = [];
  for (const file of sourceFiles(SRC)) {
    const from = stageOf(file);
    if (TOP.includes(from)) continue;
    const own = rank.get(from);
    if (own === undefined) {
      bad.push(`${path.relative(REPO_ROOT, file)}: folder src/${from} is not in STAGE_ORDER`);
      continue;
    }
    for (const spec of relativeImports(readFileSync(file, 'utf8'))) {
      const target = stageOf(path.resolve(path.dirname(file), spec));
      const other = rank.get(target);
      if (TOP.includes(target) || other === undefined || other > own) bad.push(`${path.relative(REPO_ROOT, file)} imports ${spec} (stage ${target} comes after ${from})`);
    }
  }
  return bad;
}

test('every stage imports only the stages before it and util (docs/architecture.md)', () => {
  assert.deepEqual(violations(), []);
});

test('the import scanner sees static, type-only, re-exported and dynamic imports', () => {
  const source = [
    "import { a } from '../util/x.js';",
    "import type { B } from '../data/volume.js';",
    "export { c } from './local.js';",
    "const m = await import('../rank/csv.js');",
    "import '../model/side-effect.js';",
    "import { chromium } from 'playwright-core';",
  ].join('\n');
  assert.deepEqual(relativeImports(source), ['../util/x.js', '../data/volume.js', './local.js', '../rank/csv.js', '../model/side-effect.js']);
});

/** Relative imports of a file that exist at run time (`import type` is erased by tsc). */
function runtimeImports(source: string): string[] {
  const typeOnly = new Set([...source.matchAll(/^\s*import\s+type\s[^;]*?from\s+(['"])(\.{1,2}\/[^'"]+)\1/gm)].map((m) => m[2] as string));
  return relativeImports(source).filter((spec) => !typeOnly.has(spec));
}

test('rank reads evaluation only through the metric descriptors, which need only the pure formulas (docs/architecture.md)', () => {
  const evalDir = path.join(SRC, 'eval');
  const bad: string[] = [];
  for (const file of sourceFiles(path.join(SRC, 'rank'))) {
    for (const spec of relativeImports(readFileSync(file, 'utf8'))) {
      const target = path.resolve(path.dirname(file), spec).replace(/\.js$/, '.ts');
      if (path.dirname(target) === evalDir && path.basename(target) !== 'metric-descriptors.ts') bad.push(`${path.relative(REPO_ROOT, file)} imports ${spec}`);
    }
  }
  assert.deepEqual(bad, []);
  assert.deepEqual(runtimeImports(readFileSync(path.join(evalDir, 'metric-descriptors.ts'), 'utf8')), ['./metrics.js']);
  assert.deepEqual(runtimeImports(readFileSync(path.join(evalDir, 'metrics.ts'), 'utf8')), []);
});
