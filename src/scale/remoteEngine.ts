// What the bot shows about inference in redis mode (/status, /queue ETAs): the model as a live worker advertises
// it, and step times measured from finished jobs. It generates nothing itself: jobs run on workers.
import type { PipelineInfo } from '../pipeline/pipeline.ts';
import type { WorkerResult } from '../pipeline/inferenceProcess/client.ts';
import type { GenerationEngine } from '../jobs/inferenceEngine.ts';
import type { JobResult } from '../jobs/types.ts';
import type { WorkerAdvert } from './protocol.ts';

export class RemoteEngine implements GenerationEngine {
  readonly #stepTimes: number[] = [];

  constructor(
    private readonly model: string,
    private readonly workers: () => readonly WorkerAdvert[],
    private readonly onClose: () => Promise<void>,
  ) {}

  get info(): PipelineInfo | undefined {
    for (const worker of this.workers()) {
      const model = worker.models.find((m) => m.name === this.model);
      if (model) return model.info;
    }
    return undefined;
  }

  /** Live workers (for /status: which worker holds which model). */
  workerList(): readonly WorkerAdvert[] {
    return this.workers();
  }

  /** Live workers that serve the bot's model. */
  get workerCount(): number {
    return this.workers().filter((w) => w.models.some((m) => m.name === this.model)).length;
  }

  record(result: JobResult): void {
    if (result.stepsRun <= 0) return;
    this.#stepTimes.push(result.elapsedMs / 1000 / result.stepsRun);
    if (this.#stepTimes.length > 20) this.#stepTimes.shift();
  }

  /** Per worker: with N workers the queue moves about N times as fast. */
  secondsPerStep(): number | undefined {
    if (this.#stepTimes.length === 0) return undefined;
    return this.#stepTimes.reduce((a, b) => a + b, 0) / this.#stepTimes.length;
  }

  generate(): Promise<WorkerResult> {
    return Promise.reject(new Error('QUEUE_BACKEND=redis: jobs run on workers (npm run worker), not in the bot'));
  }

  close(): Promise<void> {
    return this.onClose();
  }
}
