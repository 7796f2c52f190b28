/**
 * Small pure helpers of the report's figures and tables: the class of one cell of a significance
 * map (challengeR's `significanceMap`: row loss significantly better than column loss), the
 * deterministic horizontal jitter of per-case points on the violins, and SVG tooltips.
 */
import type { PairwiseComparison } from './types.js';

/**
 * What a cell (row a, column b) of a significance map shows: `better` = a is significantly better
 * than b (p < α in the metric's direction), `worse` = b is significantly better than a,
 * `not-significant`, `untestable` (p is NaN: identical values on every case), `same` (a = b).
 */
export type HeatCellKind = 'better' | 'worse' | 'not-significant' | 'untestable' | 'same';

/** The cell kinds in legend order, with the words the legend uses. */
export const HEAT_CELL_LEGEND: readonly { kind: HeatCellKind; label: string; color: string }[] = [
  { kind: 'better', label: 'row significantly better', color: '#2c5d98' },
  { kind: 'worse', label: 'row significantly worse', color: '#f3d9d3' },
  { kind: 'not-significant', label: 'not significant', color: '#e9e9e9' },
  { kind: 'untestable', label: 'untestable (no difference)', color: '#ffffff' },
  { kind: 'same', label: 'same loss', color: '#bdbdbd' },
];

/** Class of the cell (row a, column b) of comparison `c`; a and b index `Ranking.losses`. */
export function heatCellKind(c: PairwiseComparison, a: number, b: number): HeatCellKind {
  if (a === b) return 'same';
  if (c.better[a]?.[b] === true) return 'better';
  if (c.better[b]?.[a] === true) return 'worse';
  const p = c.pvalues[a]?.[b];
  return p === undefined || Number.isNaN(p) ? 'untestable' : 'not-significant';
}

/**
 * Horizontal jitter of a case's point in [-1, 1]: a function of the case id only (FNV-1a hash),
 * so the same case sits at the same offset in every loss's violin and every run draws the same
 * figure (no random stream involved).
 */
export function caseJitter(caseId: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < caseId.length; i++) {
    h ^= caseId.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  // One more mixing round so that ids differing in their last character spread over the range.
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d) >>> 0;
  h ^= h >>> 12;
  return ((h >>> 0) / 0xffffffff) * 2 - 1;
}

function escapeXml(text: string): string {
  return text.replace(/&(?!(?:amp|lt|gt|quot|#\d+);)/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * Give every data mark of a Vega SVG a `<title>` child with its `aria-label` (the mark's
 * `description` encoding), so that hovering shows it in any browser without a script.
 * Vega's headless SVG renderer writes the description only as `aria-label`.
 */
export function svgMarkTitles(svg: string): string {
  return svg.replace(/<(path|rect|circle|text)(\s[^>]*?aria-label="([^"]*)"[^>]*?role="graphics-symbol"[^>]*?)\/>/g, (_m, tag: string, attrs: string, label: string) => `<${tag}${attrs}><title>${escapeXml(label)}</title></${tag}>`);
}

/**
 * Round the offsets of `transform="translate(x,y)"` to 0.01 px (Vega writes full double precision):
 * invisible on screen, and a violin with thousands of points shrinks by a fifth.
 */
export function compactSvgTranslations(svg: string): string {
  const round = (v: string) => String(Math.round(Number(v) * 100) / 100);
  return svg.replace(/translate\((-?[0-9.e+-]+),(-?[0-9.e+-]+)\)/g, (_m, x: string, y: string) => `translate(${round(x)},${round(y)})`);
}
