/** `segloss preprocess`: nnU-Net-style fingerprint, plan, splits and preprocessed cases. */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { globalOptions } from '../context.js';
import { parseIntOption } from '../settings.js';
import { UsageError } from '../../util/errors.js';
import { info, print, printJson, progressBar, warn, formatTable, type Progress } from '../../util/log.js';
import { preprocessedRoot } from '../../util/paths.js';
import { preprocessedTaskDirectory } from '../../util/layout.js';
import { lockDirectory } from '../../util/lock.js';
import { ensureTaskData, resolveTask, taskFromDataset, type TaskSpec } from '../../data/tasks.js';
import { preprocessDataset, type PreprocessOptions } from '../../preprocess/pipeline.js';

interface PreprocessFlags {
  task?: string;
  data?: string;
  out?: string;
  preprocessed?: string;
  profile?: string;
  synthDir?: string;
  splitSeed?: string;
  force?: boolean;
}

/**
 * The task and its raw dataset folder: --task is any task reference (`resolveTask`); --data with a
 * dataset.json is the dataset (alone: the task is built from it), otherwise a raw data root.
 */
async function taskAndDataset(flags: PreprocessFlags): Promise<{ task: TaskSpec; datasetDir: string }> {
  const dataIsDataset = flags.data !== undefined && existsSync(path.join(flags.data, 'dataset.json'));
  if (flags.task === undefined) {
    if (flags.data === undefined) throw new UsageError('give --task <task> (a registered id, a task YAML, a dataset folder or an nnU-Net id) or --data <dir> (an MSD or nnU-Net dataset folder)');
    const task = taskFromDataset(flags.data);
    return { task, datasetDir: task.dataDir as string };
  }
  const task = resolveTask(flags.task, flags.data === undefined || dataIsDataset ? {} : { data: flags.data });
  if (dataIsDataset) return { task, datasetDir: path.resolve(flags.data as string) };
  const ensure: { data?: string; synthDir?: string } = {};
  if (flags.data !== undefined) ensure.data = flags.data;
  if (flags.synthDir !== undefined) ensure.synthDir = flags.synthDir;
  return { task, datasetDir: await ensureTaskData(task, ensure) };
}

export function register(program: Command): void {
  program
    .command('preprocess')
    .description('fingerprint, plan (nnU-Net V1 rules), split and preprocess a dataset into a cache of NIfTI cases')
    .option('--task <task>', 'a registered task id (toy tasks are synthesized on first use), a task YAML, a dataset folder or an nnU-Net id (Dataset501_Name, 501, Task04_Hippocampus)')
    .option('--data <dir>', 'dataset folder (MSD or nnU-Net layout); with --task also a raw data root like $SEGLOSS_DATA')
    .option('--out <dir>', 'output folder (default $SEGLOSS_PREPROCESSED/<task>)')
    .option('--preprocessed <dir>', 'preprocessed root used for the default --out (env SEGLOSS_PREPROCESSED)')
    .option('--profile <name|file>', 'compute profile: paper, cpu or a YAML file (default cpu)')
    .option('--synth-dir <dir>', 'where toy tasks are synthesized (env SEGLOSS_SYNTH)')
    .option('--split-seed <n>', 'seed of the KFold splits (default 12345, as nnU-Net)')
    .option('--force', 'rebuild the output folder when it holds a cache of another dataset (default: refuse)')
    .action(async (flags: PreprocessFlags, cmd: Command) => {
      const g = globalOptions(cmd);
      const { task, datasetDir } = await taskAndDataset(flags);
      const name = task.id;
      const outDir = path.resolve(flags.out ?? preprocessedTaskDirectory(preprocessedRoot(flags.preprocessed), name));
      const profile = flags.profile ?? 'cpu';
      const options: PreprocessOptions = {
        datasetDir,
        outDir,
        profile,
        seed: flags.splitSeed === undefined ? 12345 : parseIntOption('--split-seed')(flags.splitSeed),
        onWarning: warn,
        taskId: task.id,
        task,
        force: flags.force === true,
      };
      let bar: Progress | undefined;
      let stage = '';
      let reused = 0;
      options.onProgress = (e) => {
        if (e.stage !== stage) {
          bar?.stop();
          stage = e.stage;
          bar = progressBar(e.total, e.stage === 'fingerprint' ? 'fingerprint' : 'preprocess ', ['case']);
        }
        if (e.cached === true) reused++;
        bar?.update(e.done, { case: e.caseId });
      };
      // One process per cache (src/util/lock.ts): a second one exits 2 naming the holder's pid.
      const lock = lockDirectory(outDir, 'being preprocessed');
      info(`preprocessing ${datasetDir} → ${outDir} (profile ${profile})`);
      const started = Date.now();
      let plans;
      try {
        plans = await preprocessDataset(options);
      } finally {
        bar?.stop();
        lock.release();
      }
      const seconds = (Date.now() - started) / 1000;
      const summary = {
        task: plans.task,
        out: outDir,
        profile: plans.profile,
        cases: plans.cases.length,
        reused,
        processed: plans.cases.length - reused,
        skipped: plans.skipped_cases,
        seconds: Number(seconds.toFixed(2)),
        target_spacing_mm: plans.target_spacing_mm,
        patch_size: plans.patch_size,
        batch_size: plans.batch_size,
        batch_dice: plans.batch_dice,
        stages: plans.network.stages.length,
        features: plans.network.stages.map((s) => s.features),
        normalization: plans.normalization.schemes,
      };
      if (g.json) {
        printJson(summary);
        return;
      }
      const v = (a: readonly number[]) => a.join(' × ');
      print(
        formatTable(
          ['setting', 'value'],
          [
            ['task', plans.task],
            ['cases', `${plans.cases.length} (${summary.processed} preprocessed, ${reused} from cache, ${plans.skipped_cases.length} skipped)`],
            ['target spacing (mm)', v(plans.target_spacing_mm)],
            ['median shape', v(plans.median_shape.map((x) => Number(x.toFixed(1))))],
            ['patch (i × j × k)', v(plans.patch_size)],
            ['batch size', `${plans.batch_size} (planner: ${plans.planned_batch_size})`],
            ['batch Dice', String(plans.batch_dice)],
            ['network features', plans.network.stages.map((s) => s.features).join(', ')],
            ['strides', plans.network.stages.slice(1).map((s) => s.stride.join('')).join(', ')],
            ['normalisation', plans.normalization.schemes.join(', ')],
          ],
        ),
      );
      print(`\nwrote ${outDir}/{plans.json, splits.json, <case>.nii, <case>_seg.nii, <case>.json} in ${seconds.toFixed(1)} s`);
    });
}
