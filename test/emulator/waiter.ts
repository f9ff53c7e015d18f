// Change notification so tests can await conditions (a callback arrived, a message was edited ...). Conditions are
// checked on every emulator change and also every 20 ms, because tests often wait on the bot's side of the world
// (a handler ran), which changes without the emulator hearing about it.
export class ChangeNotifier {
  private readonly listeners = new Set<() => void>();

  notify(): void {
    for (const listener of [...this.listeners]) listener();
  }

  /** Resolves with the first truthy value of `probe`, checked now and after every change; rejects on timeout. */
  waitFor<T>(probe: () => T | undefined | null | false, timeoutMs: number, description: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const check = (): boolean => {
        let value: T | undefined | null | false;
        try {
          value = probe();
        } catch (error) {
          finish();
          reject(error);
          return true;
        }
        if (value) {
          finish();
          resolve(value);
          return true;
        }
        return false;
      };
      const finish = () => {
        clearTimeout(timer);
        clearInterval(poll);
        this.listeners.delete(listener);
      };
      const listener = () => void check();
      const poll = setInterval(listener, 20);
      const timer = setTimeout(() => {
        clearInterval(poll);
        this.listeners.delete(listener);
        reject(new Error(`Timed out after ${timeoutMs} ms waiting for ${description}`));
      }, timeoutMs);
      this.listeners.add(listener);
      check();
    });
  }
}
