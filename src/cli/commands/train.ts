/**
 * `segloss train`: train a 3D U-Net on a task with one loss the way the study did, one
 * run per learning rate; several rates (or `--lr search`) make a learning-rate search on the
 * validation fold that ends with a table.
 */
import type { Command } from 'commander';
import * as path from 'node:path';
import { globalOptions } from '../context.js';
import { parseIntOption, resolveSettings, parseListOption, type SettingSpec } from '../settings.js';
import { RuntimeFailure, UsageError } from '../../util/errors.js';
import { info, print, printJson, warn } from '../../util/log.js';
import { selectBackend, type BackendRequest } from '../../engine/backend.js';
import { backendBanner } from '../banner.js';
import { formatTableFit } from '../../util/width.js';
import { parseLossOptions } from '../../losses/registry.js';
import { lossOptionsFromConfig } from '../../losses/options.js';
import {
  checkTrainOptions, trainRun, trainWithLrSearch, resolveLearningRates, TRAIN_DEFAULTS, CHECKPOINT_KINDS, SELECTION_MODES,
  type CheckpointKind, type SelectionMode, type TrainOptions, type TrainOutcome,
} from '../../train/trainer.js';
import { formatLearningRate } from '../../util/layout.js';
import { resolveTask } from '../../data/tasks.js';

const SPECS: SettingSpec[] = [
  { key: 'task' },
  { key: 'loss' },
  { key: 'lr' },
  { key: 'fold', default: TRAIN_DEFAULTS.fold, parse: parseIntOption('--fold') },
  { key: 'profile', default: TRAIN_DEFAULTS.profile },
  { key: 'selection', default: TRAIN_DEFAULTS.selection },
  { key: 'checkpoint', default: TRAIN_DEFAULTS.checkpoint },
  { key: 'epochs', parse: parseIntOption('--epochs') },
  { key: 'iterations', parse: parseIntOption('--iterations') },
  { key: 'valBatches', parse: parseIntOption('--val-batches') },
  { key: 'workers', parse: parseIntOption('--workers') },
  { key: 'pretrainLr' },
  { key: 'pretrained' },
  { key: 'data' },
  { key: 'preprocessed' },
  { key: 'results' },
  { key: 'synthDir' },
  { key: 'lossOpt', default: [] },
  { key: 'lossOptions' },
  { key: 'resume', default: false },
  { key: 'restart', default: false },
  { key: 'deterministic', default: false },
  { key: 'pretrainOnly', default: false },
];

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

function fmtDice(d: number | null): string {
  return d === null ? 'n/a' : d.toFixed(4);
}

function row(o: TrainOutcome): (string | number)[] {
  const wait = o.dataWaitShare === null ? '–' : `${(100 * o.dataWaitShare).toFixed(1)} %`;
  return [formatLearningRate(o.learningRate), o.status + (o.skipped ? ' (already)' : ''), fmtDice(o.bestValDice), o.bestEpoch ?? '–', o.epochs, `${o.seconds.toFixed(0)} s`, wait, o.reason ?? ''];
}

export function register(program: Command): void {
  program
    .command('train')
    .description('train a 3D U-Net on a task with one loss (nnU-Net V1 protocol); several --lr values make a learning-rate search')
    .option('--task <id>', 'registered task (toy tasks are synthesized, tasks preprocessed on first use)')
    .option('--loss <id>', 'loss id (see `segloss losses`)')
    .option('--lr <rates>', "initial learning rate(s), comma-separated, or 'search' for the profile's search set (default 3e-4)")
    .option('--fold <k>', 'cross-validation fold whose validation cases choose the checkpoint and rate (default 0)')
    .option('--selection <mode>', "nested: train on a fold's training cases, choose on its validation cases (default); paper: train on every non-test case and choose on the test split, as the study (optimistic)")
    .option('--checkpoint <which>', 'best or final: the checkpoint `predict` tests by default, recorded in config.json (default best)')
    .option('--profile <name|file>', 'paper or cpu (training in configs/training/, planning in configs/profiles/; default cpu)')
    .option('--epochs <n>', 'maximum number of epochs (paper 1000, cpu 200)')
    .option('--iterations <n>', 'training batches per epoch (paper 250, cpu 50)')
    .option('--val-batches <n>', 'validation batches per epoch (paper 50, cpu 10)')
    .option('--loss-opt <key=value>', 'loss option, repeatable (e.g. --loss-opt k=30)', collect)
    .option('--resume', 'require an interrupted run to resume (re-running the same command resumes anyway)')
    .option('--restart', 'delete the run directory and train from scratch')
    .option('--deterministic', 'deprecated, no effect: every run is seeded with the global --seed')
    .option('--pretrain-only', 'train only the pre-training model of a special schedule (CE for lovasz, Dice for dicebd/dicehd)')
    .option('--pretrain-lr <rate>', "learning rate of the pre-training (default the profile's, 3e-4)")
    .option('--pretrained <dir>', "fine-tune a special schedule from this run (or loss directory: its best rate) instead of its own pre-training")
    .option('--workers <n>', 'batch-preparation worker threads (default cores − 1; 0 = in the training thread)')
    .option('--data <dir>', 'raw data root or dataset folder (env SEGLOSS_DATA)')
    .option('--preprocessed <dir>', 'preprocessed root (env SEGLOSS_PREPROCESSED, default ./.segloss/preprocessed)')
    .option('--results <dir>', 'results root (env SEGLOSS_RESULTS, default ./results)')
    .option('--synth-dir <dir>', 'where toy tasks are synthesized (env SEGLOSS_SYNTH)')
    .option('--config <file>', 'YAML file with any of these settings in snake_case, plus loss_options: {name: value} (flags win; configs/schema/train.schema.json)')
    .action(async (_flags: unknown, cmd: Command) => {
      const g = globalOptions(cmd);
      const configFile = cmd.opts<{ config?: string }>().config;
      const s = resolveSettings(cmd, SPECS, configFile, 'train');
      // Flags arrive as strings: apply each setting's parser (which names the option in errors).
      for (const spec of SPECS) if (spec.parse !== undefined && typeof s[spec.key] === 'string') s[spec.key] = spec.parse(s[spec.key] as string);
      // A task reference (registered id, task YAML, dataset folder, nnU-Net id) names its folders by its id.
      const task = s['task'] === undefined ? undefined : resolveTask(String(s['task']), s['data'] === undefined ? {} : { data: String(s['data']) }).id;
      const loss = s['loss'] as string | undefined;
      if (task === undefined) throw new UsageError('--task is required (see `segloss synth --help` for the toy tasks)');
      if (loss === undefined) throw new UsageError('--loss is required (see `segloss losses`)');
      const profile = String(s['profile']);
      const lrRaw = s['lr'] === undefined ? undefined : String(s['lr']);
      const rates = resolveLearningRates(lrRaw, loss, profile);
      const lossOpt = s['lossOpt'];
      // the file's loss_options mapping, then --loss-opt pairs (file or flags), the latter winning
      const lossOptions = {
        ...lossOptionsFromConfig(s['lossOptions'], `${configFile ?? '--config'}: loss_options`),
        ...parseLossOptions(Array.isArray(lossOpt) ? lossOpt.map(String) : typeof lossOpt === 'string' ? parseListOption(lossOpt) : []),
      };
      const pretrainLr = s['pretrainLr'] === undefined ? undefined : Number(s['pretrainLr']);
      if (pretrainLr !== undefined && !(pretrainLr > 0)) throw new UsageError(`--pretrain-lr: expected a positive number, got '${String(s['pretrainLr'])}'`);

      const selection = String(s['selection']) as SelectionMode;
      if (!SELECTION_MODES.includes(selection)) throw new UsageError(`--selection: expected ${SELECTION_MODES.join(' or ')}, got '${selection}'`);
      const checkpoint = String(s['checkpoint']) as CheckpointKind;
      if (!CHECKPOINT_KINDS.includes(checkpoint)) throw new UsageError(`--checkpoint: expected ${CHECKPOINT_KINDS.join(' or ')}, got '${checkpoint}'`);

      if (s['deterministic'] === true) warn(`--deterministic is deprecated and has no effect: every run is seeded with --seed (now ${g.seed})`);
      const options: TrainOptions = {
        task,
        loss,
        lossOptions,
        fold: s['fold'] as number,
        selection,
        checkpoint,
        profile,
        seed: g.seed,
        resume: s['resume'] === true,
        restart: s['restart'] === true,
        pretrainOnly: s['pretrainOnly'] === true,
      };
      for (const key of ['epochs', 'iterations', 'valBatches', 'workers'] as const) if (s[key] !== undefined) options[key] = s[key] as number;
      for (const key of ['data', 'preprocessed', 'results'] as const) if (s[key] !== undefined) options[key] = String(s[key]);
      if (s['synthDir'] !== undefined) options.synth = String(s['synthDir']);
      if (pretrainLr !== undefined) options.pretrainLearningRate = pretrainLr;
      if (typeof s['pretrained'] === 'string') options.pretrained = path.resolve(s['pretrained']);
      if (rates !== undefined && rates.length > 1 && options.pretrainOnly === true) throw new UsageError('--pretrain-only trains one model: give a single --lr');
      // Every argument is checked before the backend starts (and its banner) and before any data work.
      checkTrainOptions(rates !== undefined && rates.length === 1 ? { ...options, learningRate: rates[0] as number } : options);
      info(backendBanner(await selectBackend(g.backend as BackendRequest)));

      if (rates === undefined || rates.length === 1 || options.pretrainOnly === true) {
        if (rates !== undefined) options.learningRate = rates[0] as number;
        const outcome = await trainRun(options);
        if (g.json) printJson(outcome);
        else {
          print(formatTableFit(['lr', 'status', 'best val Dice', 'best epoch', 'epochs', 'time', 'data wait', 'note'], [row(outcome)]));
          print(`run: ${outcome.runDir}`);
        }
        if (outcome.status === 'failed') throw new RuntimeFailure(`${task}/${loss}: ${outcome.reason ?? 'training failed'}`);
        return;
      }
      const search = await trainWithLrSearch({ ...options, learningRates: rates });
      if (g.json) printJson(search);
      else {
        print(formatTableFit(['lr', 'status', 'best val Dice', 'best epoch', 'epochs', 'time', 'data wait', 'note'], search.runs.map(row)));
        print(search.best === null
          ? 'no learning rate produced a model'
          : `best learning rate on ${selection === 'paper' ? 'the test split (selection paper)' : `the validation fold ${search.fold}`}: ${formatLearningRate(search.best.learningRate)} (mean foreground Dice ${search.best.bestValDice.toFixed(4)})`);
        print(`recorded in ${search.file}`);
      }
      if (search.best === null) throw new RuntimeFailure(`${task}/${loss}: every learning rate failed`);
    });
}
