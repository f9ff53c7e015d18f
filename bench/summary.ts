// Turns raw case results into the numbers the report states (per-step time, share outside ONNX Runtime, peak RSS,
// ratios within one run) and prints them as plain-text tables.
import type { EventLoopCaseResult } from './eventLoopCase.ts';
import type { PipelineCaseResult } from './pipelineCase.ts';
import { median, min, ratio, sum } from './stats.ts';

export interface PipelineRow {
  label: string;
  size: string;
  /** UNet batch per step (2 with classifier-free guidance). */
  unetBatch: number;
  attention: string;
  stepsTimed: number;
  stepMedianMs: number;
  stepMinMs: number;
  /** Median per step of (wall - ORT): our own JS per step. */
  outsideOrtPerStepMs: number;
  /** The least (wall - ORT) of any timed step: our JS when nothing else preempted it. */
  outsideOrtMinStepMs: number;
  /** sum(wall - ORT) / sum(wall) over the timed steps, in percent. */
  outsideOrtStepsPct: number;
  /** (generate() total - ORT) / total over the whole timed generation (text, loop, decode, safety check), in percent. */
  outsideOrtGenerationPct: number;
  generationMs: number;
  /** The first (warm-up) generation in the fresh process, when there was one. */
  firstGenerationMs?: number;
  firstStepOfFirstGenerationMs?: number;
  peakRssMb: number;
  rssAfterLoadMb: number;
  loadMs: number;
}

export function pipelineRow(label: string, r: PipelineCaseResult): PipelineRow {
  const wall = r.steps.map((s) => s.wallMs);
  const outside = r.steps.map((s) => s.wallMs - s.ortMs);
  const guided = r.args.guidance > 1 && !r.embeddedGuidance;
  return {
    label,
    size: `${r.args.width}x${r.args.height}`,
    unetBatch: r.args.count * (guided ? 2 : 1),
    attention: r.attentionApplied,
    stepsTimed: r.steps.length,
    stepMedianMs: median(wall),
    stepMinMs: min(wall),
    outsideOrtPerStepMs: median(outside),
    outsideOrtMinStepMs: min(outside),
    outsideOrtStepsPct: (100 * sum(outside)) / sum(wall),
    outsideOrtGenerationPct: (100 * (r.generation.totalMs - r.generation.onnxMs)) / r.generation.totalMs,
    generationMs: r.generation.totalMs,
    firstGenerationMs: r.warmupGeneration?.totalMs,
    firstStepOfFirstGenerationMs: r.warmupGeneration?.steps[0]?.wallMs,
    peakRssMb: r.peakRssMb,
    rssAfterLoadMb: r.rssAfterLoadMb,
    loadMs: r.loadMs,
  };
}

export interface AttentionComparison {
  /** auto peak RSS / off peak RSS. */
  peakRssRatio: number;
  /** off median step / auto median step (above 1: auto is faster). */
  speedup: number;
  /** The same on the fastest step of each (the least disturbed by other load on the machine). */
  speedupMin: number;
  text: string;
}

export function compareAttention(auto: PipelineRow, off: PipelineRow): AttentionComparison {
  const peakRssRatio = auto.peakRssMb / off.peakRssMb;
  const speedup = off.stepMedianMs / auto.stepMedianMs;
  const speedupMin = off.stepMinMs / auto.stepMinMs;
  const speed = (x: number) => (x >= 1 ? `${x.toFixed(2)}x faster` : `${(1 / x).toFixed(2)}x slower`);
  const first = auto.firstGenerationMs && off.firstGenerationMs ? `; first generation in a fresh process ${speed(off.firstGenerationMs / auto.firstGenerationMs)} (${auto.firstGenerationMs.toFixed(0)} vs ${off.firstGenerationMs.toFixed(0)} ms)` : '';
  return {
    peakRssRatio,
    speedup,
    speedupMin,
    text: `auto (${auto.attention}) vs off: ${peakRssRatio.toFixed(2)}x peak RSS (${auto.peakRssMb.toFixed(0)} vs ${off.peakRssMb.toFixed(0)} MB); ` +
      `per step ${speed(speedup)} on the median (${auto.stepMedianMs.toFixed(0)} vs ${off.stepMedianMs.toFixed(0)} ms), ${speed(speedupMin)} on the fastest step (${auto.stepMinMs.toFixed(0)} vs ${off.stepMinMs.toFixed(0)} ms)${first}`,
  };
}

export function compareEventLoop(inProcess: EventLoopCaseResult, worker: EventLoopCaseResult): string {
  return `max event-loop delay in the requesting process: in-process ${inProcess.delay.max.toFixed(0)} ms vs worker ${worker.delay.max.toFixed(0)} ms ` +
    `(${ratio(inProcess.delay.max, worker.delay.max, 0)} lower through the worker; p99 ${inProcess.delay.p99.toFixed(0)} vs ${worker.delay.p99.toFixed(0)} ms)`;
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

const f = (v: number | undefined, digits = 0) => (v === undefined || !Number.isFinite(v) ? '-' : v.toFixed(digits));

export function pipelineTable(rows: PipelineRow[]): string {
  return table(
    ['case', 'size', 'batch', 'attention', 'steps', 'step ms (med)', 'min', 'JS/step ms (med)', 'min', 'outside ORT: steps', 'whole run', 'peak RSS MB', 'first gen ms'],
    rows.map((r) => [
      r.label, r.size, String(r.unetBatch), r.attention, String(r.stepsTimed), f(r.stepMedianMs, 1), f(r.stepMinMs, 1), f(r.outsideOrtPerStepMs, 2), f(r.outsideOrtMinStepMs, 2),
      `${f(r.outsideOrtStepsPct, 2)}%`, `${f(r.outsideOrtGenerationPct, 1)}%`, f(r.peakRssMb), f(r.firstGenerationMs),
    ]),
  );
}

export function eventLoopTable(rows: EventLoopCaseResult[]): string {
  return table(
    ['generation runs', 'generation ms', 'max delay ms', 'p99 ms', 'mean ms', 'max heartbeat gap ms', 'heartbeats'],
    rows.map((r) => [r.mode, f(r.generationMs), f(r.delay.max), f(r.delay.p99), f(r.delay.mean, 1), f(r.maxHeartbeatGapMs), String(r.heartbeats)]),
  );
}
