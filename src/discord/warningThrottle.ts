// Keeps a stream of identical warnings (say, a client sending the same malformed request hundreds of times) from
// flooding the log: per key, the first warning in each window is logged and the rest only counted; the count goes
// out with the next one logged. Keys are bounded: the oldest is forgotten past `maxKeys`.
export class WarningThrottle {
  private readonly windows = new Map<string, { startedAt: number; suppressed: number }>();

  constructor(
    private readonly windowMs = 60_000,
    private readonly maxKeys = 1000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Whether to log this warning now; when yes, how many identical ones were held back since the last one logged. */
  admit(key: string): { log: true; suppressed: number } | { log: false } {
    const at = this.now();
    const window = this.windows.get(key);
    if (window && at - window.startedAt < this.windowMs) {
      window.suppressed++;
      return { log: false };
    }
    this.windows.delete(key);
    this.windows.set(key, { startedAt: at, suppressed: 0 });
    if (this.windows.size > this.maxKeys) this.windows.delete(this.windows.keys().next().value!);
    return { log: true, suppressed: window?.suppressed ?? 0 };
  }
}
