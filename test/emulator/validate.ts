// Request validation Discord performs that is cheap to mirror. Each function returns field errors (empty = valid);
// callers wrap them into a 50035 Invalid Form Body. `path` prefixes let interaction callbacks report `data.*`.
import type { FieldError } from './errors.ts';
import type { Json } from './types.ts';

type Path = (string | number)[];

const maxLength = (path: Path, max: number): FieldError => ({
  path,
  code: 'BASE_TYPE_MAX_LENGTH',
  message: `Must be ${max} or fewer in length.`,
});
const between = (path: Path, min: number, max: number): FieldError => ({
  path,
  code: 'BASE_TYPE_BAD_LENGTH',
  message: `Must be between ${min} and ${max} in length.`,
});
const required = (path: Path): FieldError => ({ path, code: 'BASE_TYPE_REQUIRED', message: 'This field is required' });

export const MessageFlags = {
  SuppressEmbeds: 1 << 2,
  Ephemeral: 1 << 6,
  Loading: 1 << 7,
  SuppressNotifications: 1 << 12,
  IsComponentsV2: 1 << 15,
} as const;

const EMBED_LIMITS: [string[], number][] = [
  [['title'], 256],
  [['description'], 4096],
  [['footer', 'text'], 2048],
  [['author', 'name'], 256],
];

function validateEmbeds(embeds: unknown, path: Path): FieldError[] {
  if (!Array.isArray(embeds)) return [];
  const errors: FieldError[] = [];
  if (embeds.length > 10) errors.push(maxLength(path, 10));
  let total = 0;
  embeds.forEach((embed: Json, i) => {
    for (const [keys, max] of EMBED_LIMITS) {
      const value = keys.reduce<unknown>((v, k) => (v as Json | undefined)?.[k], embed);
      if (typeof value === 'string') {
        total += value.length;
        if (value.length > max) errors.push(maxLength([...path, i, ...keys], max));
      }
    }
    const fields = Array.isArray(embed.fields) ? (embed.fields as Json[]) : [];
    if (fields.length > 25) errors.push(maxLength([...path, i, 'fields'], 25));
    fields.forEach((field, j) => {
      const name = String(field.name ?? '');
      const value = String(field.value ?? '');
      total += name.length + value.length;
      if (!field.name) errors.push(required([...path, i, 'fields', j, 'name']));
      if (name.length > 256) errors.push(maxLength([...path, i, 'fields', j, 'name'], 256));
      if (!field.value) errors.push(required([...path, i, 'fields', j, 'value']));
      if (value.length > 1024) errors.push(maxLength([...path, i, 'fields', j, 'value'], 1024));
    });
  });
  if (total > 6000) errors.push({ path, code: 'MAX_EMBED_SIZE_EXCEEDED', message: 'Embed size exceeds maximum size of 6000' });
  return errors;
}

/** Component checks shared by messages and modals: custom_id length and uniqueness, labels, row contents. */
function validateComponentTree(components: unknown, path: Path, seen: Set<string>): FieldError[] {
  if (!Array.isArray(components)) return [];
  return components.flatMap((component: Json, i) => validateComponent(component, [...path, i], seen));
}

function validateComponent(component: Json, here: Path, seen: Set<string>): FieldError[] {
  if (typeof component?.type !== 'number') return [required([...here, 'type'])];
  const errors: FieldError[] = [];
  if (typeof component.custom_id === 'string') {
    if (component.custom_id.length > 100) errors.push(maxLength([...here, 'custom_id'], 100));
    if (component.custom_id.length === 0) errors.push(between([...here, 'custom_id'], 1, 100));
    if (seen.has(component.custom_id)) {
      errors.push({ path: [...here, 'custom_id'], code: 'COMPONENT_CUSTOM_ID_DUPLICATED', message: 'Component custom id cannot be duplicated' });
    }
    seen.add(component.custom_id);
  }
  switch (component.type) {
    case 1: {
      const children = Array.isArray(component.components) ? (component.components as Json[]) : [];
      if (children.length === 0 || children.length > 5) errors.push(between([...here, 'components'], 1, 5));
      const selects = children.filter((c) => [3, 5, 6, 7, 8].includes(c.type)).length;
      if (selects > 0 && children.length > 1) {
        errors.push({ path: [...here, 'components'], code: 'COMPONENT_LAYOUT_WIDTH_EXCEEDED', message: 'The specified component exceeds the maximum width' });
      }
      break;
    }
    case 2: {
      const isLink = component.style === 5;
      const isPremium = component.style === 6;
      if (isLink && !component.url) errors.push(required([...here, 'url']));
      if (!isLink && !isPremium && component.custom_id === undefined) errors.push(required([...here, 'custom_id']));
      if (typeof component.label === 'string' && component.label.length > 80) errors.push(maxLength([...here, 'label'], 80));
      break;
    }
    case 3: {
      const options = Array.isArray(component.options) ? component.options : [];
      if (options.length === 0 || options.length > 25) errors.push(between([...here, 'options'], 1, 25));
      break;
    }
    case 4: {
      if (typeof component.label === 'string' && component.label.length > 45) errors.push(maxLength([...here, 'label'], 45));
      if (typeof component.max_length === 'number' && component.max_length > 4000) errors.push(maxLength([...here, 'max_length'], 4000));
      break;
    }
    case 18: {
      if (typeof component.label !== 'string') errors.push(required([...here, 'label']));
      else if (component.label.length > 45) errors.push(maxLength([...here, 'label'], 45));
      break;
    }
  }
  if ([3, 4, 5, 6, 7, 8].includes(component.type) && component.custom_id === undefined) errors.push(required([...here, 'custom_id']));
  errors.push(...validateComponentTree(component.components, [...here, 'components'], seen));
  if (component.component) errors.push(...validateComponent(component.component, [...here, 'component'], seen));
  if (component.accessory) errors.push(...validateComponent(component.accessory, [...here, 'accessory'], seen));
  return errors;
}

export interface MessageValidationContext {
  /** Number of uploaded files in this request. */
  fileCount: number;
  /** Prefix for error paths (interaction callbacks use ['data']). */
  path?: Path;
}

export function validateMessagePayload(body: Json | undefined, ctx: MessageValidationContext): FieldError[] {
  const base = ctx.path ?? [];
  const payload = body ?? {};
  const errors: FieldError[] = [];
  const flags = Number(payload.flags ?? 0);
  const v2 = (flags & MessageFlags.IsComponentsV2) !== 0;
  if (payload.content != null) {
    if (typeof payload.content !== 'string') errors.push({ path: [...base, 'content'], code: 'BASE_TYPE_STRING', message: 'Must be a string.' });
    else if (payload.content.length > 2000) errors.push(maxLength([...base, 'content'], 2000));
    if (v2 && payload.content) errors.push({ path: [...base, 'content'], code: 'MESSAGE_CANNOT_USE_LEGACY_FIELDS_WITH_COMPONENTS_V2', message: 'The \'content\' field cannot be used when using MessageFlags.IS_COMPONENTS_V2' });
  }
  errors.push(...validateEmbeds(payload.embeds, [...base, 'embeds']));
  if (v2 && Array.isArray(payload.embeds) && payload.embeds.length > 0) {
    errors.push({ path: [...base, 'embeds'], code: 'MESSAGE_CANNOT_USE_LEGACY_FIELDS_WITH_COMPONENTS_V2', message: 'The \'embeds\' field cannot be used when using MessageFlags.IS_COMPONENTS_V2' });
  }
  if (Array.isArray(payload.components)) {
    if (!v2 && payload.components.length > 5) errors.push(maxLength([...base, 'components'], 5));
    if (!v2) {
      payload.components.forEach((row: Json, i: number) => {
        if (row?.type !== 1) errors.push({ path: [...base, 'components', i, 'type'], code: 'UNION_TYPE_CHOICES', message: 'Value of field "type" must be one of (1,).' });
      });
    }
    errors.push(...validateComponentTree(payload.components, [...base, 'components'], new Set()));
  }
  if (ctx.fileCount > 10) errors.push(maxLength([...base, 'files'], 10));
  if (Array.isArray(payload.attachments) && payload.attachments.length > 10) errors.push(maxLength([...base, 'attachments'], 10));
  if (typeof payload.nonce === 'string' && payload.nonce.length > 25) errors.push(maxLength([...base, 'nonce'], 25));
  return errors;
}

/** True when a create request carries nothing to show (Discord answers 50006). */
export function isEmptyMessage(body: Json | undefined, fileCount: number): boolean {
  const payload = body ?? {};
  const hasContent = typeof payload.content === 'string' && payload.content.length > 0;
  const hasEmbeds = Array.isArray(payload.embeds) && payload.embeds.length > 0;
  const hasComponents = Array.isArray(payload.components) && payload.components.length > 0;
  const hasStickers = Array.isArray(payload.sticker_ids) && payload.sticker_ids.length > 0;
  return !hasContent && !hasEmbeds && !hasComponents && !hasStickers && !payload.poll && fileCount === 0;
}

export function validateModal(data: Json | undefined, path: Path = ['data']): FieldError[] {
  const modal = data ?? {};
  const errors: FieldError[] = [];
  if (typeof modal.custom_id !== 'string') errors.push(required([...path, 'custom_id']));
  else if (modal.custom_id.length > 100) errors.push(maxLength([...path, 'custom_id'], 100));
  if (typeof modal.title !== 'string') errors.push(required([...path, 'title']));
  else if (modal.title.length > 45) errors.push(maxLength([...path, 'title'], 45));
  const components = Array.isArray(modal.components) ? modal.components : [];
  if (components.length === 0 || components.length > 5) errors.push(between([...path, 'components'], 1, 5));
  errors.push(...validateComponentTree(components, [...path, 'components'], new Set()));
  return errors;
}

const COMMAND_NAME = /^[-_'\p{L}\p{N}\p{sc=Deva}\p{sc=Thai}]{1,32}$/u;

function validateCommandOptions(options: unknown, path: Path): FieldError[] {
  if (options === undefined || options === null) return [];
  if (!Array.isArray(options)) return [{ path, code: 'BASE_TYPE_ARRAY', message: 'Must be an array.' }];
  const errors: FieldError[] = [];
  if (options.length > 25) errors.push(maxLength(path, 25));
  let sawOptional = false;
  const names = new Set<string>();
  options.forEach((option: Json, i) => {
    const here = [...path, i];
    if (typeof option.name !== 'string' || !COMMAND_NAME.test(option.name) || option.name !== option.name.toLowerCase()) {
      errors.push({ path: [...here, 'name'], code: 'APPLICATION_COMMAND_INVALID_NAME', message: 'Command name is invalid' });
    }
    if (names.has(option.name)) errors.push({ path: [...here, 'name'], code: 'APPLICATION_COMMAND_OPTIONS_NAME_ALREADY_EXISTS', message: 'Option names must be unique' });
    names.add(option.name);
    if (typeof option.description !== 'string' || option.description.length < 1 || option.description.length > 100) {
      errors.push(between([...here, 'description'], 1, 100));
    }
    if (option.type !== 1 && option.type !== 2) {
      if (option.required) {
        if (sawOptional) errors.push({ path: [...here, 'required'], code: 'APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID', message: 'Required options must be placed before non-required options' });
      } else sawOptional = true;
    }
    if (Array.isArray(option.choices) && option.choices.length > 25) errors.push(maxLength([...here, 'choices'], 25));
    if (option.type === 1 || option.type === 2) errors.push(...validateCommandOptions(option.options, [...here, 'options']));
  });
  return errors;
}

/** Validates a bulk-overwrite array of application commands. */
export function validateCommands(commands: unknown): FieldError[] {
  if (!Array.isArray(commands)) return [{ path: [], code: 'BASE_TYPE_ARRAY', message: 'Must be an array.' }];
  const errors: FieldError[] = [];
  const keys = new Set<string>();
  let chatInput = 0;
  commands.forEach((command: Json, i) => {
    const type = command.type ?? 1;
    if (type === 1) chatInput++;
    if (typeof command.name !== 'string' || !COMMAND_NAME.test(command.name) || (type === 1 && command.name !== command.name.toLowerCase())) {
      if (!(type !== 1 && typeof command.name === 'string' && command.name.length >= 1 && command.name.length <= 32)) {
        errors.push({ path: [i, 'name'], code: 'APPLICATION_COMMAND_INVALID_NAME', message: 'Command name is invalid' });
      }
    }
    const key = `${type}:${command.name}`;
    if (keys.has(key)) errors.push({ path: [i, 'name'], code: 'APPLICATION_COMMANDS_DUPLICATE_NAME', message: `Application command names must be unique` });
    keys.add(key);
    if (type === 1) {
      if (typeof command.description !== 'string' || command.description.length < 1 || command.description.length > 100) {
        errors.push(between([i, 'description'], 1, 100));
      }
      errors.push(...validateCommandOptions(command.options, [i, 'options']));
    } else if (command.description) {
      errors.push({ path: [i, 'description'], code: 'APPLICATION_COMMAND_CONTEXT_MENU_DESCRIPTION', message: 'Context menu commands cannot have description' });
    }
  });
  if (chatInput > 100) errors.push(maxLength([], 100));
  return errors;
}
