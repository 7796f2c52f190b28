/**
 * The paper beside the user's results (docs/ranking.md, "Published comparison"): the per-loss
 * means the study published (configs/published/, facts from JunMa11/SegLossOdyssey@d562441 and the
 * paper's Table 2) next to the reproduced means, with a 95 % bootstrap interval over the cases (and
 * replicates), and per task and metric Kendall's τ-b between the published and the reproduced
 * order of the losses both have.
 *
 * Name map: a results task or loss matches a published one when its id, lower-cased with
 * everything but letters and digits removed, equals the segloss id (or an alias) of the published
 * name below; so `livertumor`, `Liver Tumor` and `LiverTumor` all match "Liver Tumor", and
 * `topk`/`topk10` match "TopK" and "TopK10". Toy tasks (`toy-liver`) match nothing.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { CONFIG_DIR } from '../util/paths.js';
import { InputError, UsageError } from '../util/errors.js';
import { Rng } from '../util/rng.js';
import { parseCsv } from './csv.js';
import { bootstrapLossMeans, percentileInterval } from './effects.js';
import { kendallTauB } from './kendall.js';
import type { MetricName, MetricTable, PublishedComparison, PublishedRow, Ranking } from './types.js';

export type PublishedTableName = 'table2' | 'nnunetv2';
export const PUBLISHED_TABLE_NAMES: readonly PublishedTableName[] = ['table2', 'nnunetv2'];

export interface PublishedTableInfo {
  name: PublishedTableName;
  file: string;
  source: string;
  /** A caveat that applies to every row of this table. */
  tableCaveat?: string;
}

export const PUBLISHED_TABLES: Record<PublishedTableName, PublishedTableInfo> = {
  table2: {
    name: 'table2',
    file: 'table2-means-20losses.csv',
    source: 'Ma et al., Loss odyssey in medical image segmentation, MedIA 71 (2021) 102035, Table 2; JunMa11/SegLossOdyssey@d562441 test/README.md',
  },
  nnunetv2: {
    name: 'nnunetv2',
    file: 'nnunetv2-means-6losses.csv',
    source: 'JunMa11/SegLossOdyssey@d562441 test/README.md (a later run of 6 losses with nnU-Net V2)',
    tableCaveat: 'published with nnU-Net V2 (deep supervision, SGD), not the nnU-Net V1 setting segloss reproduces',
  },
};

/** The paper's task names → segloss task ids. */
export const PUBLISHED_TASK_IDS: Record<string, string> = {
  Liver: 'liver',
  'Liver Tumor': 'livertumor',
  LiverTumor: 'livertumor',
  Pancreas: 'pancreas',
  'Multi-organ': 'multiorgan',
  Multiorgan: 'multiorgan',
};

/** The paper's loss names → segloss loss ids (`segloss losses`). */
export const PUBLISHED_LOSS_IDS: Record<string, string> = {
  Asym: 'asym',
  CE: 'ce',
  Dice: 'dice',
  DiceBD: 'dicebd',
  DiceCE: 'dicece',
  DiceFocal: 'dicefocal',
  DiceHD: 'dicehd',
  DiceTopK: 'dicetopk',
  DiceTopK10: 'dicetopk',
  ELL: 'ell',
  Focal: 'focal',
  FocalTversky: 'focaltversky',
  GDice: 'gdice',
  IoU: 'iou',
  Lovasz: 'lovasz',
  pCE: 'pce',
  pGDice: 'pgdice',
  SS: 'ss',
  TopK: 'topk',
  TopK10: 'topk',
  Tversky: 'tversky',
  WCE: 'wce',
};

/** Other spellings of segloss ids that the results may use. */
const LOSS_ALIASES: Record<string, string> = { topk10: 'topk', dicetopk10: 'dicetopk' };

/** Caveats a reader needs beside a loss's rows. */
export const LOSS_CAVEATS: Record<string, string> = {
  pce:
    "the published pCE numbers came from the released DistPenalizedCE, which computes the distance penalty and then returns plain CE; segloss applies the penalty (paper Eq. 6), so the published value is CE's, not pCE's",
  lovasz:
    'the released trainer fed raw logits to LovaszSoftmax (segloss default input=logits follows it; input=softmax follows paper Eq. 11); fine-tuned after CE pre-training',
  dicebd:
    'α = max(0.01, 1 − 0.01·⌊step/250⌋), the study\'s per-epoch schedule in its 250-step epochs: a run much shorter than the study\'s (up to 1000 epochs) stays near α = 1, i.e. mostly Dice; fine-tuned from a Dice pre-training',
  dicehd: 'fine-tuned from a Dice pre-training at the fine-tuning rates of footnote 7; a run much shorter than the study\'s changes the balance of the two stages',
};

/** Caveats a reader needs beside a task's rows. */
export const TASK_CAVEATS: Record<string, string> = {
  livertumor:
    'cases with an empty tumour reference: paper footnote 10 sets N/A to 0 for cases with no prediction; segloss counts every N/A DSC/NSD (no prediction, or empty reference and prediction) as 0, so a loss that correctly predicts nothing on a tumour-free case scores 0 here',
};

/** Lower case, letters and digits only. */
export const normaliseName = (name: string): string => name.toLowerCase().replace(/[^a-z0-9]/g, '');

function lossIdOf(resultsLoss: string): string {
  const n = normaliseName(resultsLoss);
  return LOSS_ALIASES[n] ?? n;
}

export interface PublishedMeans {
  info: PublishedTableInfo;
  /** (segloss task id, metric, segloss loss id) → published mean. */
  means: { task: string; metric: MetricName; loss: string; publishedName: string; publishedTask: string; mean: number }[];
}

/** Parse one of the shipped tables (header `Loss,<Task>-DSC,<Task>-NSD,…`). */
export function parsePublishedTable(text: string, info: PublishedTableInfo, file: string): PublishedMeans {
  const records = parseCsv(text);
  const header = records[0]?.fields;
  if (header === undefined || header[0] !== 'Loss') throw new InputError(file, 'expected the header Loss,<Task>-DSC,<Task>-NSD,…');
  const columns = header.slice(1).map((h) => {
    const m = /^(.*)-(DSC|NSD)$/.exec(h);
    const task = m === null ? undefined : PUBLISHED_TASK_IDS[m[1] as string];
    if (m === null || task === undefined) throw new InputError(file, `unknown column ${h}`);
    return { publishedTask: m[1] as string, task, metric: (m[2] as string).toLowerCase() as MetricName };
  });
  const means: PublishedMeans['means'] = [];
  for (const rec of records.slice(1)) {
    const name = rec.fields[0] as string;
    const loss = PUBLISHED_LOSS_IDS[name];
    if (loss === undefined) throw new InputError(file, `line ${rec.line}: loss ${name} is not in the name map`);
    columns.forEach((c, i) => means.push({ task: c.task, metric: c.metric, loss, publishedName: name, publishedTask: c.publishedTask, mean: Number(rec.fields[i + 1]) }));
  }
  return { info, means };
}

export function readPublishedTable(name: PublishedTableName): PublishedMeans {
  const info = PUBLISHED_TABLES[name];
  const file = path.join(CONFIG_DIR, 'published', info.file);
  return parsePublishedTable(readFileSync(file, 'utf8'), info, file);
}

/** Which of the ranking's tasks and losses match a published table: (results task → id), (results loss → id). */
function matches(ranking: Ranking, table: PublishedMeans): { task: string; loss: string; metric: MetricName; published: PublishedMeans['means'][number] }[] {
  const out: { task: string; loss: string; metric: MetricName; published: PublishedMeans['means'][number] }[] = [];
  for (const task of ranking.tasks) {
    const taskId = normaliseName(task);
    for (const metric of ['dsc', 'nsd'] as MetricName[]) {
      if (!ranking.tables.some((t) => t.task === task && t.metric === metric)) continue;
      for (const loss of ranking.losses) {
        const published = table.means.find((m) => m.task === taskId && m.metric === metric && m.loss === lossIdOf(loss));
        if (published !== undefined) out.push({ task, loss, metric, published });
      }
    }
  }
  return out;
}

/** 'auto': the table sharing the most task × metric × loss with the results (table2 on a tie); undefined when none does. */
export function chooseTable(ranking: Ranking, which: PublishedTableName | 'auto'): PublishedMeans | undefined {
  if (which !== 'auto') return readPublishedTable(which);
  let best: PublishedMeans | undefined;
  let bestCount = 0;
  for (const name of PUBLISHED_TABLE_NAMES) {
    const t = readPublishedTable(name);
    const n = matches(ranking, t).length;
    if (n > bestCount) [best, bestCount] = [t, n];
  }
  return best;
}

function caveatOf(table: PublishedMeans, taskId: string, lossId: string): string | undefined {
  const parts = [LOSS_CAVEATS[lossId], TASK_CAVEATS[taskId], table.info.tableCaveat].filter((c): c is string => c !== undefined);
  return parts.length === 0 ? undefined : parts.join('; ');
}

/**
 * Published vs reproduced means for every task × metric × loss in both, and Kendall's τ-b per
 * task and metric (n = losses in both; NaN when n < 2 or an order is constant). The interval uses
 * `resamples` two-level bootstrap resamples (NaN when 0), `Rng(seed).fork('published/<task>/<metric>')`.
 */
export function comparePublished(ranking: Ranking, table: PublishedMeans, resamples: number, seed: number): PublishedComparison {
  const matched = matches(ranking, table);
  if (matched.length === 0) {
    throw new UsageError(
      `--published ${table.info.name}: no task × metric × loss of the results is in the published table (tasks ${[...new Set(table.means.map((m) => m.publishedTask))].join(', ')}; losses by segloss id, see docs/ranking.md "Published comparison")`,
    );
  }
  const rows: PublishedRow[] = [];
  const tau: PublishedComparison['tau'] = [];
  for (const task of ranking.tasks) {
    for (const metric of ['dsc', 'nsd'] as MetricName[]) {
      const here = matched.filter((m) => m.task === task && m.metric === metric);
      if (here.length === 0) continue;
      const mt = ranking.tables.find((t) => t.task === task && t.metric === metric) as MetricTable;
      const boot = resamples > 0 ? bootstrapLossMeans(mt, resamples, new Rng(seed).fork(`published/${task}/${metric}`)) : undefined;
      const reproduced: number[] = [];
      for (const m of here) {
        const l = ranking.losses.indexOf(m.loss);
        const values = mt.values[l] as number[];
        const mean = values.reduce((s, v) => s + v, 0) / values.length;
        const [ciLow, ciHigh] = boot === undefined ? [NaN, NaN] : percentileInterval(boot[l] as Float64Array);
        const row: PublishedRow = { task, metric, loss: m.loss, publishedMean: m.published.mean, mean, ciLow, ciHigh, difference: mean - m.published.mean };
        const caveat = caveatOf(table, m.published.task, m.published.loss);
        if (caveat !== undefined) row.caveat = caveat;
        rows.push(row);
        reproduced.push(mean);
      }
      tau.push({ task, metric, tau: here.length < 2 ? NaN : kendallTauB(here.map((m) => m.published.mean), reproduced), n: here.length });
    }
  }
  return { table: table.info.name, source: table.info.source, rows, tau };
}
