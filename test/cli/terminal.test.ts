/**
 * Ctrl-C during `segloss train` in a real pseudo-terminal (util-linux `script`): the progress bar
 * turns line wrap (ESC[?7l) and the cursor (ESC[?25l) off while it runs; after the interrupt both
 * must be on again and the messages must start on lines of their own.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { BIN, REPO_ROOT, tempDir } from '../helpers.js';

const ESC = '\x1b';
const hasScript = spawnSync('script', ['--version'], { encoding: 'utf8' }).status === 0;

/** Printable text of a terminal transcript: escape sequences and carriage returns removed, split in lines. */
function lines(transcript: string): string[] {
  // eslint-disable-next-line no-control-regex
  return transcript.replace(/\x1b(\[[0-9;?]*[A-Za-z]|[78])/g, '').split('\n').map((l) => l.replace(/\r/g, ''));
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

test('Ctrl-C in a pseudo-terminal during train: wrap and cursor restored, messages on their own lines, exit 130', { skip: hasScript ? false : 'util-linux script not installed', timeout: 600_000 }, async () => {
  const root = tempDir();
  const args = [
    BIN, 'train', '--task', 'toy-liver', '--loss', 'dice', '--epochs', '50', '--iterations', '4', '--val-batches', '1',
    '--synth-dir', path.join(root, 's'), '--preprocessed', path.join(root, 'p'), '--results', path.join(root, 'r'),
  ];
  const command = [process.execPath, ...args].map(shellQuote).join(' ');
  // script gives the command a pseudo-terminal; what we write to its stdin is typed into it, so
  // \x03 goes through the terminal's line discipline and becomes SIGINT for the command.
  // without NO_COLOR, so that the bar hides the cursor as it does in a user's terminal
  const env: NodeJS.ProcessEnv = { ...process.env, TERM: 'xterm' };
  delete env['NO_COLOR'];
  const child = spawn('script', ['-qfec', command, '/dev/null'], { cwd: REPO_ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
  let transcript = '';
  let sent = false;
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  child.stdout.on('data', (d: Buffer) => {
    transcript += d.toString('utf8');
    // the first redraw of a training bar with a loss value: the bar is running, modes are off
    if (!sent && /epoch \d+ \[#+/.test(transcript)) {
      sent = true;
      child.stdin.write('\x03');
    }
  });
  const code = await exited;
  child.stdin.destroy();
  assert.ok(sent, `no progress bar seen: ${transcript}`);
  assert.equal(code, 130, transcript);

  const wrapOff = transcript.lastIndexOf(`${ESC}[?7l`);
  const cursorOff = transcript.lastIndexOf(`${ESC}[?25l`);
  assert.ok(wrapOff >= 0 && cursorOff >= 0, 'the bar switched wrap and cursor off (else this test proves nothing)');
  assert.ok(transcript.lastIndexOf(`${ESC}[?7h`) > wrapOff, 'line wrap is on again after the last ESC[?7l');
  assert.ok(transcript.lastIndexOf(`${ESC}[?25h`) > cursorOff, 'the cursor is visible again after the last ESC[?25l');

  const text = lines(transcript);
  const signalLine = text.findIndex((l) => l.startsWith('SIGINT: stopping at the next safe point'));
  assert.ok(signalLine > 0, `the interrupt message starts a line: ${JSON.stringify(text.slice(-8))}`);
  const errorLine = text.findIndex((l) => l.includes('segloss: interrupted'));
  assert.ok(errorLine > signalLine && text[errorLine]!.startsWith('segloss: interrupted'), `the final message starts a line: ${JSON.stringify(text.slice(-8))}`);
  // nothing redraws a bar after the final message
  assert.ok(!text.slice(errorLine).some((l) => /epoch \d+ \[/.test(l)), JSON.stringify(text.slice(errorLine)));
});
