// Decides what each attention block becomes for a slicing mode and execution provider.
import type { AttentionSlicing, ProviderName } from '../types.ts';
import type { AttentionBlock } from './find.ts';

/**
 * Run the block as `slices` sequential pieces along the query tokens. The rows per piece are decided at run time from
 * the real shapes: ceil(S / slices), raised to `minRowsBudget / (batch*heads * L)` rows when that is larger, so small
 * attentions (cross-attention with 77 keys, low-resolution levels) are not cut into needlessly tiny pieces (pieces
 * beyond the end come out empty and cost nothing).
 */
export interface SliceAction { kind: 'slice'; slices: number; minRowsBudget: number }
/** Replace the block with one com.microsoft.MultiHeadAttention node (flash attention on CPU, fused kernels on GPU). */
export interface FlashAction { kind: 'flash' }
export type BlockAction = SliceAction | FlashAction;

export interface AttentionPlan {
  /** Keyed by the block's output name; blocks without an entry stay as they are. */
  actions: Map<string, BlockAction>;
  /** A short description of what was chosen, e.g. "flash x4" or "slice(16) x2, flash x2". */
  applied: string;
  fused: number;
  sliced: number;
  /** Blocks sliced although the mode prefers fusion, by the reason they cannot be fused. */
  notFused: Map<string, number>;
}

export interface PlanContext {
  provider: ProviderName;
}

/**
 * Execution providers with a MultiHeadAttention kernel (onnxruntime's CPU, CUDA, DirectML and WebGPU providers
 * implement it for float and float16). CoreML does not: there the node would fall back to CPU with copies each way.
 */
const MHA_PROVIDERS: ReadonlySet<ProviderName> = new Set(['cpu', 'cuda', 'dml', 'webgpu']);

/**
 * auto (when not fusing): at most 16 pieces, each piece's scores at least 2^22 elements (16 MB in fp32). At SD 1.5's
 * first level (16 x 4096 x 4096 scores) that gives 16 pieces of 64 MB; cross-attention and deeper levels stay whole.
 */
export const AUTO_SLICE: SliceAction = { kind: 'slice', slices: 16, minRowsBudget: 2 ** 22 };
/** max: up to 64 pieces, each at least 2^18 score elements, so tiny attentions are not shredded into hundreds of nodes. */
export const MAX_SLICE: SliceAction = { kind: 'slice', slices: 64, minRowsBudget: 2 ** 18 };

export function modeName(mode: AttentionSlicing): string {
  return typeof mode === 'number' ? String(mode) : mode;
}

export function planAttention(blocks: readonly AttentionBlock[], mode: AttentionSlicing, ctx: PlanContext): AttentionPlan {
  const actions = new Map<string, BlockAction>();
  const notFused = new Map<string, number>();
  if (mode === 'off' || (typeof mode === 'number' && (!Number.isFinite(mode) || mode <= 1))) return { actions, applied: 'off', fused: 0, sliced: 0, notFused };
  const prefersFusion = mode === 'flash' || (mode === 'auto' && MHA_PROVIDERS.has(ctx.provider));
  for (const b of blocks) {
    const action = chooseAction(b, mode, ctx);
    actions.set(b.output, action);
    if (prefersFusion && action.kind !== 'flash') notFused.set(b.notFusable ?? 'not fusable', (notFused.get(b.notFusable ?? 'not fusable') ?? 0) + 1);
  }
  const fused = [...actions.values()].filter((a) => a.kind === 'flash').length;
  return { actions, applied: describe(actions), fused, sliced: actions.size - fused, notFused };
}

function chooseAction(b: AttentionBlock, mode: Exclude<AttentionSlicing, 'off'>, ctx: PlanContext): BlockAction {
  if (typeof mode === 'number') return { kind: 'slice', slices: Math.floor(mode), minRowsBudget: 0 };
  if (mode === 'max') return MAX_SLICE;
  if (mode === 'flash') return b.fusable ? { kind: 'flash' } : AUTO_SLICE;
  return b.fusable && MHA_PROVIDERS.has(ctx.provider) ? { kind: 'flash' } : AUTO_SLICE;
}

function describe(actions: Map<string, BlockAction>): string {
  const counts = new Map<string, number>();
  for (const a of actions.values()) {
    const key = a.kind === 'flash' ? 'flash' : `slice(${a.slices})`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].map(([k, n]) => `${k} x${n}`).join(', ') || 'none';
}
