// Memory-saving attention as an ONNX graph rewrite (slicing or MultiHeadAttention fusion), cached beside the model.
export { prepareUnet } from './prepare.ts';
export type { PrepareOptions, PreparedUnet } from './prepare.ts';
export { findAttentionBlocks, defaultOpset } from './find.ts';
export type { AttentionBlock, ScoreScale, FindOptions } from './find.ts';
export { planAttention, AUTO_SLICE, MAX_SLICE } from './plan.ts';
export type { AttentionPlan, BlockAction, SliceAction, FlashAction } from './plan.ts';
export { rewriteAttention } from './rewrite.ts';
