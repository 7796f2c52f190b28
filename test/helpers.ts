/** Shared test helpers: run the CLI as a user would, temporary directories, shared data paths. */
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { EpochLogEntry } from '../src/train/trainer.js';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SHARED = path.resolve(REPO_ROOT, '..', 'shared');
export const BIN = path.join(REPO_ROOT, 'bin', 'segloss.js');

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Run `segloss <args>` in a child process. */
export function runSegloss(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): CliResult {
  const r: SpawnSyncReturns<string> = spawnSync(process.execPath, [BIN, ...args], {
    cwd: options.cwd ?? REPO_ROOT,
    env: { ...process.env, NO_COLOR: '1', ...options.env },
    encoding: 'utf8',
    timeout: options.timeoutMs ?? 600_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A fresh temporary directory, removed when the process exits. */
export function tempDir(prefix = 'segloss-test-'): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export const CHROMIUM = '/usr/bin/chromium';

export interface ReportCheck {
  /** Console errors/warnings, page errors and network requests (a self-contained report has none). */
  problems: string[];
  /** Text of the loss cell of the first leaderboard row. */
  firstLoss: string | undefined;
  figures: number;
  /** Ids of inline SVG elements (they must be unique on the page). */
  svgIds: string[];
  /** How many pixels the page is wider than a 1366-px laptop window. */
  overflowPx: number;
  /** The value of the caller's `probe` expression, evaluated in the page after load. */
  probe?: unknown;
}

/**
 * Open a report.html in headless Chromium (Debian's, driven by playwright-core). Returns undefined
 * when Chromium is not installed; callers fail in CI (CI=true) and skip locally.
 */
/**
 * checkReportInBrowser for a test: without Chromium the test is skipped, except in CI (CI=true),
 * where .ci/run installs Debian's chromium and its absence is a failure.
 */
export async function checkReportInBrowserOrSkip(t: TestContext, file: string, probe?: string): Promise<ReportCheck | undefined> {
  const check = await checkReportInBrowser(file, probe);
  if (check === undefined) {
    if (process.env['CI'] === 'true') assert.fail(`${CHROMIUM} is missing: CI must install Debian's chromium (apt-get install -y chromium)`);
    t.skip(`${CHROMIUM} not installed (the test fails instead when CI=true)`);
  }
  return check;
}

export async function checkReportInBrowser(file: string, probe?: string): Promise<ReportCheck | undefined> {
  const { existsSync } = await import('node:fs');
  if (!existsSync(CHROMIUM)) return undefined;
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1366, height: 768 } });
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('request', (req) => {
      if (!/^(file|data):/.test(req.url())) problems.push(`network request: ${req.url()}`);
    });
    const response = await page.goto('file://' + path.resolve(file), { waitUntil: 'load' });
    if (response !== null && !response.ok()) problems.push(`HTTP ${response.status()}`);
    const firstLoss = (await page.textContent('#leaderboard tbody tr:first-child td:nth-child(2)'))?.trim();
    const figures = await page.locator('figure svg').count();
    const svgIds = (await page.evaluate('Array.from(document.querySelectorAll("svg [id]")).map((e) => e.id)')) as string[];
    const overflowPx = (await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth')) as number;
    const probed = probe === undefined ? undefined : await page.evaluate(probe);
    return { problems, firstLoss, figures, svgIds, overflowPx, probe: probed };
  } finally {
    await browser.close();
  }
}

/**
 * max |got − want| / max |want|: the relative error the engine tests bound (one scale for the whole
 * array, so that near-zero entries do not dominate). Arrays of different lengths are an error.
 */
export function maxRelativeError(got: ArrayLike<number>, want: ArrayLike<number>): number {
  if (got.length !== want.length) throw new Error(`length ${got.length} vs reference length ${want.length}`);
  let maxRef = 0;
  let maxDiff = 0;
  for (let i = 0; i < want.length; i++) {
    maxRef = Math.max(maxRef, Math.abs(want[i] as number));
    maxDiff = Math.max(maxDiff, Math.abs((got[i] as number) - (want[i] as number)));
  }
  return maxDiff / Math.max(maxRef, 1e-30);
}

/** Epoch log entries without their wall-clock fields: what two runs of the same training must share. */
export function timeless(log: readonly EpochLogEntry[]): unknown[] {
  return log.map(({ seconds: _s, dataWaitShare: _d, batchMillis: _b, ...rest }) => rest);
}
