// The model's ONNX sessions for one pipeline: created on first use, timed (ONNX Runtime's share of a run), released
// after use in low-memory mode or when the host frees an idle model.
import { createSession, releaseSession, sessionFiles, type LoadedSession, type SessionSettings } from './session.ts';
import type { ProviderName } from './types.ts';

/** The sub-models of a model folder that get a session. */
export type Part = 'textEncoder' | 'textEncoder2' | 'unet' | 'vaeDecoder' | 'vaeEncoder' | 'safetyChecker' | 'previewDecoder';


/**
 * Sessions created on first use and kept (or, in low-memory mode, released right after use), so that a small GPU only
 * ever holds one sub-model at a time, and idle models can be released by the host.
 */
export class SessionPool {
  private readonly live = new Map<Part, LoadedSession>();
  onnxMs = 0;
  constructor(
    private readonly paths: Partial<Record<Part, string>>,
    private readonly settings: SessionSettings,
    /** The file to open for a part: an upcast VAE and the attention rewrite (UNet, VAE), or the path itself. */
    private readonly resolvePath: (part: Part, path: string) => Promise<string>,
  ) {}

  has(part: Part): boolean {
    return this.paths[part] !== undefined;
  }

  /** Each part's file to open, resolved once per process (the rewrite and upcast caches make it stable). */
  private readonly resolved = new Map<Part, Promise<string>>();

  private resolve(part: Part): Promise<string> {
    const path = this.paths[part];
    if (!path) return Promise.reject(new Error(`the model has no ${part}`));
    let resolved = this.resolved.get(part);
    if (!resolved) {
      resolved = this.resolvePath(part, path);
      resolved.catch(() => this.resolved.delete(part));
      this.resolved.set(part, resolved);
    }
    return resolved;
  }

  /** The files creating this part's session will read (for reading them ahead); [] when not loaded by us. */
  async sessionFiles(part: Part): Promise<{ path: string; bytes: number }[]> {
    if (!this.has(part) || this.live.has(part)) return [];
    return sessionFiles(await this.resolve(part), this.settings);
  }

  async get(part: Part): Promise<LoadedSession> {
    const existing = this.live.get(part);
    if (existing) return existing;
    const loaded = await createSession(await this.resolve(part), this.settings);
    this.timeRuns(loaded);
    this.live.set(part, loaded);
    return loaded;
  }

  /** Wrap run() once per session so the benchmark can tell ONNX Runtime time from our own. */
  private timeRuns(loaded: LoadedSession): void {
    const session = loaded.session;
    const run = session.run.bind(session) as (...args: unknown[]) => Promise<unknown>;
    (session as { run: unknown }).run = async (...args: unknown[]) => {
      const start = performance.now();
      try {
        return await run(...args);
      } finally {
        this.onnxMs += performance.now() - start;
      }
    };
  }

  async release(part: Part): Promise<void> {
    const loaded = this.live.get(part);
    this.live.delete(part);
    await releaseSession(loaded);
  }

  /** Releases every open session; returns the parts that were open. */
  async releaseAll(): Promise<Part[]> {
    const parts = [...this.live.keys()];
    for (const part of parts) await this.release(part);
    return parts;
  }

  get provider(): ProviderName | undefined {
    return this.live.values().next().value?.provider;
  }
}
