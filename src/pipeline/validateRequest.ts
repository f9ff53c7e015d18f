// A generation request checked before any work: the one request schema (./request.ts) plus what only the pipeline
// knows (the init image's size, the mask).
import { InvalidRequestError } from './errors.ts';
import { parseRequestFields } from './request.ts';
import type { GenerateRequest } from './types.ts';

/**
 * Checks a request against the one request schema (./request.ts), plus what only the pipeline knows (the init image's
 * size, the mask). Throws InvalidRequestError naming every field that is wrong; returns the request with defaults filled in.
 */
export function validateRequest(r: GenerateRequest): GenerateRequest {
  const parsed = parseRequestFields(r);
  if (!parsed.ok) throw new InvalidRequestError(parsed.problems.join('; '));
  if (r.initImage && !r.onlyMasked && (r.initImage.width !== r.width || r.initImage.height !== r.height)) {
    throw new InvalidRequestError(`the init image is ${r.initImage.width}x${r.initImage.height}; it must be resized to ${r.width}x${r.height} first`);
  }
  validateMask(r, (message) => {
    throw new InvalidRequestError(message);
  });
  return parsed.value;
}

/** Mask fields: a mask needs an init image of its size and something to repaint; the mask options need a mask. */
function validateMask(r: GenerateRequest, fail: (message: string) => never): void {
  if (!r.mask) {
    if (r.onlyMasked) fail('"only the masked area" needs a mask');
    return;
  }
  if (!r.initImage) fail('a mask needs an init image to paint into');
  const image = r.initImage!;
  if (r.mask.width !== image.width || r.mask.height !== image.height) fail(`the mask is ${r.mask.width}x${r.mask.height} but the init image is ${image.width}x${image.height}; resize the mask first`);
  if (r.mask.data.length !== r.mask.width * r.mask.height) fail('the mask must have one byte per pixel');
  if (r.mask.data.every((v) => v === 0)) fail('the mask is all black: there is nothing to repaint (white marks what to repaint)');
  if (r.onlyMasked && (image.width > 4096 || image.height > 4096 || image.width < 8 || image.height < 8)) fail(`the init image is ${image.width}x${image.height}; "only the masked area" takes images from 8 to 4096 pixels a side`);
}
