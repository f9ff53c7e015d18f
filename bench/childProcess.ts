// Runs one benchmark case in its own Node process (through tsx), so its peak RSS is its own and no case inherits
// another's warmed-up allocator. A case prints one `RESULT <json>` line on stdout; everything else is passed through.
import { spawn } from 'node:child_process';

export const RESULT_PREFIX = 'RESULT ';

/** In a case process: hand the result to the parent. */
export function sendResult(result: unknown): void {
  process.stdout.write(`${RESULT_PREFIX}${JSON.stringify(result)}\n`);
}

export interface ChildOutput {
  status: number | null;
  stdout: string;
  stderr: string;
  /** Parsed RESULT line, when the case printed one. */
  result?: unknown;
}

/**
 * Run `tsx script args...`. `echo` copies the child's stdout (minus the RESULT line) to ours as it arrives, for
 * scripts whose own output is the report (bench/attention.ts, bench/moderation.ts).
 */
export function runScript(script: string, args: string[], opts: { echo?: boolean; timeoutMs?: number } = {}): Promise<ChildOutput> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      if (opts.echo) process.stdout.write(chunk.split('\n').filter((l) => !l.startsWith(RESULT_PREFIX)).join('\n'));
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = opts.timeoutMs ? setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs) : undefined;
    child.on('error', reject);
    child.on('close', (status) => {
      if (timer) clearTimeout(timer);
      const line = stdout.split('\n').find((l) => l.startsWith(RESULT_PREFIX));
      resolve({ status, stdout, stderr, result: line ? JSON.parse(line.slice(RESULT_PREFIX.length)) : undefined });
    });
  });
}
