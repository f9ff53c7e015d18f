// A one-line download progress bar on stderr (stdout stays clean for scripts). On a terminal the line is redrawn in
// place at most ten times a second; elsewhere (CI logs, pipes) only a line per file start and end is written.

export interface ProgressSink {
  start(label: string, total: number, already: number): void;
  advance(bytes: number): void;
  done(note?: string): void;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v >= 100 ? v.toFixed(0) : v.toFixed(1)} ${units[i]}`;
}

export class StderrProgress implements ProgressSink {
  private label = '';
  private total = 0;
  private current = 0;
  private startedAt = 0;
  private startBytes = 0;
  private lastDraw = 0;

  constructor(
    private readonly out: NodeJS.WriteStream = process.stderr,
    private readonly width = 24,
  ) {}

  private get tty(): boolean {
    return Boolean(this.out.isTTY);
  }

  start(label: string, total: number, already: number): void {
    this.label = label;
    this.total = total;
    this.current = already;
    this.startBytes = already;
    this.startedAt = Date.now();
    this.lastDraw = 0;
    if (this.tty) this.draw(true);
    else this.out.write(`${label}: ${formatBytes(total)}${already ? ` (resuming at ${formatBytes(already)})` : ''}\n`);
  }

  advance(bytes: number): void {
    this.current += bytes;
    if (this.tty) this.draw(false);
  }

  done(note = 'done'): void {
    if (this.tty) {
      this.draw(true);
      this.out.write(` ${note}\n`);
    } else {
      this.out.write(`${this.label}: ${note}\n`);
    }
  }

  private draw(force: boolean): void {
    const now = Date.now();
    if (!force && now - this.lastDraw < 100) return;
    this.lastDraw = now;
    const fraction = this.total > 0 ? Math.min(1, this.current / this.total) : 1;
    const filled = Math.round(fraction * this.width);
    const seconds = (now - this.startedAt) / 1000;
    const rate = seconds > 0 ? (this.current - this.startBytes) / seconds : 0;
    const bar = '#'.repeat(filled) + '-'.repeat(this.width - filled);
    const pct = `${(fraction * 100).toFixed(0).padStart(3)}%`;
    this.out.write(`\r${this.label} [${bar}] ${pct} ${formatBytes(this.current)}/${formatBytes(this.total)}${rate > 0 ? ` ${formatBytes(rate)}/s` : ''}\x1b[K`);
  }
}

/** For callers (tests, the bot) that want no output. */
export const silentProgress: ProgressSink = { start() {}, advance() {}, done() {} };
