import { readFileSync } from 'node:fs';

/**
 * Whether a process id belongs to a live process on this host. Signal 0 probes without
 * signalling (EPERM = alive, not ours). A zombie — a killed process its parent has not reaped
 * yet, common after `kill -9` of a whole process group when the adopting init reaps late — also
 * answers signal 0, but it will never run again: on Linux its /proc state ('Z' or 'X') says so.
 */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  const state = linuxProcessState(pid);
  return state !== 'Z' && state !== 'X';
}

/**
 * The state letter of /proc/<pid>/stat ('R', 'S', 'Z', …), or undefined where there is no /proc
 * entry to read (another OS, or the process is gone).
 */
export function linuxProcessState(pid: number): string | undefined {
  try {
    // "pid (comm) state …"; comm may contain spaces and parentheses.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  } catch {
    return undefined;
  }
}
