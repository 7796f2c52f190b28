/**
 * The training curve of a run as a small self-contained SVG (no dependencies, deterministic,
 * cheap enough to redraw after every epoch): training and validation loss on the left axis,
 * mean foreground validation Dice on the right axis (0–1), and dotted vertical lines where the
 * learning rate was reduced.
 */
export interface CurvePoint {
  epoch: number;
  trainLoss: number;
  valLoss: number;
  valDice: number | null;
  learningRate: number;
}

const W = 640;
const H = 360;
const M = { left: 60, right: 60, top: 36, bottom: 44 };

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function fmt(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  return a >= 1000 || a < 0.01 ? v.toExponential(1) : Number(v.toPrecision(3)).toString();
}

/** "Nice" tick values covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) out.push(Number(t.toPrecision(12)));
  return out;
}

export function renderCurveSvg(title: string, points: readonly CurvePoint[]): string {
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`);
  parts.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  parts.push(`<text x="${W / 2}" y="18" text-anchor="middle" font-size="13">${esc(title)}</text>`);
  const finite = (v: number) => Number.isFinite(v);
  const losses = points.flatMap((p) => [p.trainLoss, p.valLoss]).filter(finite);
  if (points.length === 0 || losses.length === 0) {
    parts.push(`<text x="${W / 2}" y="${H / 2}" text-anchor="middle">no finished epoch yet</text></svg>`);
    return parts.join('\n') + '\n';
  }
  const maxEpoch = Math.max(1, points[points.length - 1]!.epoch);
  let lo = Math.min(...losses);
  let hi = Math.max(...losses);
  if (hi - lo < 1e-9) {
    lo -= 0.5;
    hi += 0.5;
  }
  const pad = (hi - lo) * 0.05;
  lo -= pad;
  hi += pad;
  const x = (e: number) => M.left + (e / maxEpoch) * pw;
  const yL = (v: number) => M.top + (1 - (v - lo) / (hi - lo)) * ph;
  const yR = (v: number) => M.top + (1 - v) * ph;
  // Axes and grid.
  parts.push(`<g stroke="#ccc" stroke-width="0.5">`);
  for (const t of niceTicks(lo, hi)) parts.push(`<line x1="${M.left}" x2="${M.left + pw}" y1="${yL(t).toFixed(1)}" y2="${yL(t).toFixed(1)}"/>`);
  parts.push(`</g>`);
  parts.push(`<rect x="${M.left}" y="${M.top}" width="${pw}" height="${ph}" fill="none" stroke="#333"/>`);
  for (const t of niceTicks(lo, hi)) parts.push(`<text x="${M.left - 6}" y="${(yL(t) + 4).toFixed(1)}" text-anchor="end">${fmt(t)}</text>`);
  for (const t of [0, 0.25, 0.5, 0.75, 1]) parts.push(`<text x="${M.left + pw + 6}" y="${(yR(t) + 4).toFixed(1)}" fill="#2a7">${t}</text>`);
  for (const t of niceTicks(0, maxEpoch, 6).filter((v) => Number.isInteger(v))) parts.push(`<text x="${x(t).toFixed(1)}" y="${M.top + ph + 16}" text-anchor="middle">${t}</text>`);
  parts.push(`<text x="${M.left + pw / 2}" y="${H - 8}" text-anchor="middle">epoch</text>`);
  parts.push(`<text transform="translate(16 ${M.top + ph / 2}) rotate(-90)" text-anchor="middle">loss</text>`);
  parts.push(`<text transform="translate(${W - 14} ${M.top + ph / 2}) rotate(90)" text-anchor="middle" fill="#2a7">validation Dice</text>`);
  // LR reductions.
  for (let n = 1; n < points.length; n++) {
    if (points[n]!.learningRate < points[n - 1]!.learningRate) {
      const xx = x(points[n]!.epoch).toFixed(1);
      parts.push(`<line x1="${xx}" x2="${xx}" y1="${M.top}" y2="${M.top + ph}" stroke="#999" stroke-dasharray="2 3"><title>lr ${points[n]!.learningRate.toExponential(2)}</title></line>`);
    }
  }
  const line = (vals: (number | null)[], y: (v: number) => number, colour: string, dash = '') => {
    const segs: string[] = [];
    let pen = 'M';
    points.forEach((p, n) => {
      const v = vals[n];
      if (v === null || v === undefined || !Number.isFinite(v)) {
        pen = 'M';
        return;
      }
      segs.push(`${pen}${x(p.epoch).toFixed(1)},${y(v).toFixed(1)}`);
      pen = 'L';
    });
    if (segs.length > 0) parts.push(`<path d="${segs.join(' ')}" fill="none" stroke="${colour}" stroke-width="1.5"${dash ? ` stroke-dasharray="${dash}"` : ''}/>`);
    if (points.length === 1 && vals[0] !== null && Number.isFinite(vals[0] as number)) parts.push(`<circle cx="${x(points[0]!.epoch).toFixed(1)}" cy="${y(vals[0] as number).toFixed(1)}" r="2.5" fill="${colour}"/>`);
  };
  line(points.map((p) => p.trainLoss), yL, '#1f5fbf');
  line(points.map((p) => p.valLoss), yL, '#d2691e', '5 3');
  line(points.map((p) => p.valDice), yR, '#2a7');
  const legend: [string, string][] = [['train loss', '#1f5fbf'], ['validation loss', '#d2691e'], ['validation Dice', '#2a7']];
  legend.forEach(([name, colour], n) => {
    const lx = M.left + 10 + n * 130;
    parts.push(`<line x1="${lx}" x2="${lx + 18}" y1="${M.top + 12}" y2="${M.top + 12}" stroke="${colour}" stroke-width="2"/><text x="${lx + 22}" y="${M.top + 16}">${name}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}
