/**
 * Worker thread of `evaluateFolders`: receives CaseTask messages, answers with a CaseResult or a
 * serialised error (message, and the file for input errors so the main thread can rethrow it).
 */
import { parentPort } from 'node:worker_threads';
import { InputError, errorMessage } from '../util/errors.js';
import { evaluateCaseFiles, type CaseTask } from './case-files.js';

export type WorkerReply =
  | { ok: true; result: Awaited<ReturnType<typeof evaluateCaseFiles>> }
  | { ok: false; caseId: string; message: string; input: boolean };

const port = parentPort;
if (port !== null) {
  port.on('message', (task: CaseTask) => {
    evaluateCaseFiles(task).then(
      (result) => port.postMessage({ ok: true, result } satisfies WorkerReply),
      (err: unknown) => port.postMessage({ ok: false, caseId: task.caseId, message: errorMessage(err), input: err instanceof InputError } satisfies WorkerReply),
    );
  });
}
