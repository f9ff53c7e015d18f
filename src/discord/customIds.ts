// Component custom_ids carry the job id, so buttons keep working after a restart: everything else is in SQLite.
// Format: `img:<action>:<jobId>[:<index>]` (well under Discord's 100-character limit with a UUID).
export const JOB_ACTIONS = ['cancel', 'reroll', 'vary', 'upscale', 'remix', 'delete'] as const;
export type JobButtonAction = (typeof JOB_ACTIONS)[number];

export interface JobButtonId {
  action: JobButtonAction;
  jobId: string;
  /** 0-based image index (vary, upscale). */
  index?: number;
}

const PREFIX = 'img';

export function jobButtonId(action: JobButtonAction, jobId: string, index?: number): string {
  return index === undefined ? `${PREFIX}:${action}:${jobId}` : `${PREFIX}:${action}:${jobId}:${index}`;
}

/** Prefix of the who-made / delete-image buttons (handled by src/commands/whoMade.ts). */
export const WHO_MADE_PREFIX = 'whomade';

/** custom_id of the button that deletes a recorded image post: `whomade:delete:<messageId>`. */
export function deleteImageId(messageId: string): string {
  return `${WHO_MADE_PREFIX}:delete:${messageId}`;
}

export function parseJobButtonId(customId: string): JobButtonId | undefined {
  const [prefix, rawAction, jobId, rawIndex, ...rest] = customId.split(':');
  if (prefix !== PREFIX || rawAction === undefined || jobId === undefined || rest.length > 0) return undefined;
  const action = rawAction as JobButtonAction;
  if (!JOB_ACTIONS.includes(action)) return undefined;
  if (!/^[0-9a-f-]{8,64}$/i.test(jobId)) return undefined;
  if (rawIndex === undefined) return { action, jobId };
  const index = Number(rawIndex);
  if (!Number.isInteger(index) || index < 0 || index > 3) return undefined;
  return { action, jobId, index };
}

/** Modal ids: `modal:<kind>:<ref>` where ref is a job id (remix) or a message id (reimagine). */
export function modalId(kind: string, ref: string): string {
  return `modal:${kind}:${ref}`;
}

export function parseModalId(customId: string): { kind: string; ref: string } | undefined {
  const [, kind, ref] = /^modal:([a-z-]+):([0-9a-zA-Z-]{1,80})$/.exec(customId) ?? [];
  return kind !== undefined && ref !== undefined ? { kind, ref } : undefined;
}
