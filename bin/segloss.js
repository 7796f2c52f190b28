#!/usr/bin/env node
// The segloss executable: runs the compiled CLI (dist/ is built by `npm install` via `prepare`).
import { runCli } from '../dist/src/cli/main.js';

// `segloss … | head` closes the pipe early: that is not an error of segloss.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
}

const code = await runCli(process.argv.slice(2));
process.exitCode = code;
// Pending timers of tfjs or worker pools must not keep a finished command alive.
setImmediate(() => process.exit(code));
