/**
 * `segloss losses`: the loss catalogue as a table (or JSON), and
 * `segloss losses verify --fixtures FILE`: check every loss against reference cases produced by
 * the released SegLoss PyTorch code.
 */
import type { Command } from 'commander';
import { globalOptions } from '../context.js';
import { selectBackend } from '../../engine/backend.js';
import { print, printJson, info, formatTable } from '../../util/log.js';
import { formatTableFit, outputColumns, wrapText } from '../../util/width.js';
import { RuntimeFailure, UsageError } from '../../util/errors.js';
import { getLossDefinition, listLosses, type LossOptionSpec } from '../../losses/registry.js';
import { verifyReferenceFile } from '../../losses/verify.js';

function formatDefault(spec: LossOptionSpec): string {
  if (spec.default === undefined) return `${spec.name}=(unset)`;
  return `${spec.name}=${Array.isArray(spec.default) ? spec.default.join(',') : String(spec.default)}`;
}

function formatError(e: number): string {
  return Number.isNaN(e) ? 'NaN' : e.toExponential(2);
}

export function register(program: Command): void {
  const losses = program
    .command('losses')
    .description('list the loss catalogue (id, family, paper equation, options and defaults, reference); `losses verify` checks it against the released code')
    .argument('[id]', 'show the options of one loss in detail')
    .action((id: string | undefined, _opts: unknown, cmd: Command) => {
      const g = globalOptions(cmd);
      if (id !== undefined) {
        const def = getLossDefinition(id);
        if (g.json) {
          printJson(def);
          return;
        }
        const width = outputColumns();
        const say = (text: string, indent = '') => print(wrapText(text, width, indent).join('\n'));
        say(`${def.id}${def.aliases.length > 0 ? ` (also ${def.aliases.join(', ')})` : ''}: ${def.name} — ${def.family}, paper ${def.paperEquation}, ${def.role}`);
        say(`reference: ${def.reference}`, '           ');
        say(`notes:     ${def.notes}`, '           ');
        if (def.options.length === 0) print('options:   none');
        else {
          print('');
          print(formatTableFit(['option', 'type', 'default', 'description'], def.options.map((o) => [o.name, o.type === 'choice' ? o.choices!.join('|') : o.type, o.default === undefined ? '(unset)' : String(o.default), o.description])));
        }
        return;
      }
      const defs = listLosses();
      if (g.json) {
        printJson(defs);
        return;
      }
      print(
        formatTableFit(
          ['id', 'family', 'paper', 'role', 'options (defaults)', 'reference'],
          defs.map((d) => [
            d.aliases.length > 0 ? `${d.id} (${d.aliases.join(', ')})` : d.id,
            d.family,
            d.paperEquation,
            d.role,
            d.options.map(formatDefault).join(' ') || '-',
            d.reference.split(' ')[0]!.split('(')[0]!,
          ]),
        ),
      );
      print('');
      print(wrapText(`${defs.length} losses. Override options with --loss-opt name=value; details: segloss losses <id>.`, outputColumns()).join('\n'));
    });

  losses
    .command('verify')
    .description('evaluate every case of a SegLoss reference file (value and gradient) and compare')
    .requiredOption('--fixtures <file>', 'reference cases in the segloss-reference.json format')
    .action(async (opts: { fixtures?: string }, cmd: Command) => {
      const g = globalOptions(cmd);
      if (opts.fixtures === undefined) throw new UsageError('losses verify: --fixtures FILE is required');
      const backend = await selectBackend(g.backend);
      info(`backend: ${backend.description}`);
      const report = verifyReferenceFile(opts.fixtures);
      if (g.json) printJson(report);
      else {
        print(
          formatTable(
            ['reference', 'segloss', 'passed', 'failed', 'skipped', 'worst abs', 'worst rel', 'note'],
            report.losses.map((s) => [
              s.referenceLoss,
              s.lossId ?? '-',
              s.passed,
              s.failed,
              s.skipped,
              s.passed + s.failed > 0 ? formatError(s.worstAbsError) : '-',
              s.passed + s.failed > 0 ? formatError(s.worstRelError) : '-',
              s.reasons.join('; '),
            ]),
          ),
        );
        print('');
        print(`${report.passed} passed, ${report.failed} failed, ${report.skipped} skipped`);
      }
      if (report.failed > 0) throw new RuntimeFailure(`${report.failed} reference case${report.failed === 1 ? '' : 's'} failed`);
    })
    .exitOverride();
}
