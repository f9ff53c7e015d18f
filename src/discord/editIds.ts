// The region tools' buttons on a one-picture result (Vary (Region), Zoom Out 2x / 1.5x, Custom Zoom, the four Pan
// arrows) and their custom_ids: `edit:<op>:<jobId>:<index>`, the same idea as the job buttons (everything else is
// looked up by the job id, so they work after a restart). The grid of Vary (Region) is 4 x 4 cells, numbered 1-16
// row by row from the top left.
import { ButtonStyle, ComponentType, type APIActionRowComponent, type APIButtonComponent } from 'discord.js';

export const EDIT_OPS = ['region', 'zoom2', 'zoom15', 'zoomc', 'pan-left', 'pan-right', 'pan-up', 'pan-down', 'cells'] as const;
export type EditOp = (typeof EDIT_OPS)[number];
export const EDIT_PREFIX = 'edit';
export const GRID = 4;

export function editId(op: EditOp, jobId: string, index: number): string {
  return `${EDIT_PREFIX}:${op}:${jobId}:${index}`;
}

export function parseEditId(customId: string): { op: EditOp; jobId: string; index: number } | undefined {
  const [, op, jobId, index] = /^edit:([a-z0-9-]+):([0-9a-f-]{8,64}):([0-3])$/i.exec(customId) ?? [];
  if (op === undefined || jobId === undefined || index === undefined || !EDIT_OPS.includes(op as EditOp)) return undefined;
  return { op: op as EditOp, jobId, index: Number(index) };
}

/** Modal refs carry the job, the image and (region) the chosen cells as a bit set: `<jobId>-<index>-<cells base 36>`. */
export function editModalRef(jobId: string, index: number, cells = 0): string {
  return `${jobId}-${index}-${cells.toString(36)}`;
}

export function parseEditModalRef(ref: string): { jobId: string; index: number; cells: number } | undefined {
  const parts = ref.split('-');
  if (parts.length < 3) return undefined;
  const cells = parseInt(parts.pop()!, 36);
  const index = Number(parts.pop());
  const jobId = parts.join('-');
  if (!Number.isInteger(index) || index < 0 || index > 3 || !Number.isInteger(cells) || cells < 0 || cells >= 2 ** (GRID * GRID) || !/^[0-9a-f-]{8,64}$/i.test(jobId)) return undefined;
  return { jobId, index, cells };
}

function button(label: string, customId: string, style: ButtonStyle.Primary | ButtonStyle.Secondary = ButtonStyle.Secondary): APIButtonComponent {
  return { type: ComponentType.Button, style, label, custom_id: customId };
}

export function editRows(jobId: string, index: number): APIActionRowComponent<APIButtonComponent>[] {
  const row = (components: APIButtonComponent[]): APIActionRowComponent<APIButtonComponent> => ({ type: ComponentType.ActionRow, components });
  return [
    row([
      button('Vary (Region)', editId('region', jobId, index), ButtonStyle.Primary),
      button('Zoom Out 2×', editId('zoom2', jobId, index)),
      button('Zoom Out 1.5×', editId('zoom15', jobId, index)),
      button('Custom Zoom', editId('zoomc', jobId, index)),
    ]),
    row([
      button('⬅️', editId('pan-left', jobId, index)),
      button('➡️', editId('pan-right', jobId, index)),
      button('⬆️', editId('pan-up', jobId, index)),
      button('⬇️', editId('pan-down', jobId, index)),
    ]),
  ];
}
