#!/usr/bin/env node
// The segloss executable: runs the compiled CLI (dist/ is built by `npm install` via `prepare`).
import { runCli } from '../dist/src/cli/main.js';

// A reader that goes away (`segloss … | head`, a caller that stopped reading) is not an error of
// segloss: stdout closed ends the command quietly with its exit code so far; stderr closed only
// silences messages, so that an interrupted command still stops cleanly with 130.
process.stdout.on('error', (err) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});
process.stderr.on('error', (err) => {
  if (err.code !== 'EPIPE') throw err;
});

const code = await runCli(process.argv.slice(2));
process.exitCode = code;
// Pending timers of tfjs or worker pools must not keep a finished command alive.
setImmediate(() => process.exit(code));
