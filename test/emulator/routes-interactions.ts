// Interaction callbacks and the interaction webhook (@original, follow-ups). This is where Discord's interaction
// rules live: 3 s to acknowledge, acknowledge once, callback types per interaction type, 15-minute tokens, and the
// first follow-up after a deferral replacing the "thinking" message.
import { Errors, invalidFormBody } from './errors.ts';
import type { Core, InteractionRecord } from './core.ts';
import type { RouteRequest, RouteResponse, Router } from './router.ts';
import { isEmptyMessage, MessageFlags, validateMessagePayload, validateModal } from './validate.ts';
import type { Json } from './types.ts';

export const CallbackType = { Pong: 1, ChannelMessage: 4, DeferredChannelMessage: 5, DeferredUpdate: 6, UpdateMessage: 7, Autocomplete: 8, Modal: 9 } as const;
export const InteractionType = { Command: 2, Component: 3, Autocomplete: 4, ModalSubmit: 5 } as const;

function allowedCallbacks(record: InteractionRecord): number[] {
  switch (record.type) {
    case InteractionType.Command:
      return [4, 5, 9];
    case InteractionType.Component:
      return [4, 5, 6, 7, 9];
    case InteractionType.Autocomplete:
      return [8];
    case InteractionType.ModalSubmit:
      return record.sourceMessageId ? [4, 5, 6, 7] : [4, 5];
    default:
      return [];
  }
}

/** Message type Discord gives responses: 20 for slash commands, 23 for context menus, 0 otherwise. */
function responseMessageType(record: InteractionRecord): number {
  if (record.type !== InteractionType.Command) return 0;
  return record.payload.data?.type === 1 ? 20 : 23;
}

function interactionMessageExtras(core: Core, record: InteractionRecord, isFollowUp: boolean): Json {
  const app = core.world.application;
  const data = record.payload.data ?? {};
  return {
    webhook_id: app.id,
    application_id: app.id,
    interaction_metadata: {
      id: record.id,
      type: record.type,
      user: record.user,
      authorizing_integration_owners: record.payload.authorizing_integration_owners,
      ...(record.type === InteractionType.Command ? { name: data.name, command_type: data.type } : {}),
      ...(isFollowUp && record.originalMessageId ? { original_response_message_id: record.originalMessageId } : {}),
      ...(record.sourceMessageId ? { interacted_message_id: record.sourceMessageId } : {}),
    },
    interaction: { id: record.id, type: record.type, name: data.name ?? data.custom_id, user: record.user },
  };
}

export function registerInteractionRoutes(router: Router, core: Core): void {
  const app = core.world.application;

  router.add(
    'POST',
    '/interactions/:interactionId/:token/callback',
    async (request) => {
      const record = core.interactions.get(request.params.interactionId!);
      if (!record || record.token !== request.params.token) throw Errors.unknownInteraction();
      request.notes.interactionId = record.id;
      if (record.acknowledged) throw Errors.alreadyAcknowledged();
      if (core.isTokenExpired(record) || core.clock.now() - record.createdAt > core.callbackDeadlineMs) throw Errors.unknownInteraction();
      const body = request.body ?? {};
      const type = Number(body.type);
      request.notes.callbackType = type;
      if (!allowedCallbacks(record).includes(type)) {
        throw invalidFormBody([{ path: ['type'], code: 'INTERACTION_RESPONSE_TYPE_INVALID', message: `Interaction response type ${body.type} is not valid for this interaction.` }]);
      }
      const data: Json = body.data ?? {};
      const extras = () => interactionMessageExtras(core, record, false);
      let message: Json | undefined;
      switch (type) {
        case CallbackType.ChannelMessage: {
          const errors = validateMessagePayload(data, { fileCount: request.files.length, path: ['data'] });
          if (errors.length > 0) throw invalidFormBody(errors);
          if (isEmptyMessage(data, request.files.length)) throw Errors.emptyMessage();
          core.checkUploadSize(request.files);
          message = await core.messages.create({ channelId: record.channelId, author: core.world.botUser, payload: data, files: request.files, type: responseMessageType(record), extra: extras() });
          record.originalMessageId = message.id;
          core.dispatchMessageCreate(message);
          break;
        }
        case CallbackType.DeferredChannelMessage: {
          const flags = Number(data.flags ?? 0) & MessageFlags.Ephemeral;
          message = await core.messages.create({ channelId: record.channelId, author: core.world.botUser, payload: { flags }, files: [], type: responseMessageType(record), systemFlags: MessageFlags.Loading, extra: extras() });
          record.originalMessageId = message.id;
          core.dispatchMessageCreate(message);
          break;
        }
        case CallbackType.DeferredUpdate:
          record.originalMessageId = record.sourceMessageId;
          message = record.sourceMessageId ? core.messages.get(record.sourceMessageId) : undefined;
          break;
        case CallbackType.UpdateMessage: {
          const source = record.sourceMessageId ? core.messages.get(record.sourceMessageId) : undefined;
          if (!source) throw Errors.unknownMessage();
          const errors = validateMessagePayload(data, { fileCount: request.files.length, path: ['data'] });
          if (errors.length > 0) throw invalidFormBody(errors);
          core.checkUploadSize(request.files);
          message = await core.messages.edit(source, data, request.files);
          record.originalMessageId = source.id;
          core.dispatchMessageUpdate(message);
          break;
        }
        case CallbackType.Autocomplete: {
          const choices = Array.isArray(data.choices) ? data.choices : [];
          if (choices.length > 25) throw invalidFormBody([{ path: ['data', 'choices'], code: 'BASE_TYPE_MAX_LENGTH', message: 'Must be 25 or fewer in length.' }]);
          break;
        }
        case CallbackType.Modal: {
          const errors = validateModal(data);
          if (errors.length > 0) throw invalidFormBody(errors);
          record.modal = data;
          break;
        }
      }
      record.acknowledged = { type, at: core.clock.now() };
      if (message) request.notes.messageId = message.id;
      if (request.query.get('with_response') !== 'true') return { status: 204 };
      return {
        status: 200,
        body: {
          interaction: {
            id: record.id,
            type: record.type,
            response_message_id: record.originalMessageId ?? undefined,
            response_message_loading: type === CallbackType.DeferredChannelMessage,
            response_message_ephemeral: message ? (message.flags & MessageFlags.Ephemeral) !== 0 : false,
          },
          resource: { type, ...(message ? { message } : {}) },
        },
      };
    },
    { auth: false },
  );

  /** The interaction behind a webhook token, with Discord's error for each way it can be unusable. */
  const webhookInteraction = (request: RouteRequest): InteractionRecord => {
    const record = core.interactionsByToken.get(request.params.token!);
    if (!record || request.params.applicationId !== app.id) throw Errors.unknownWebhook();
    request.notes.interactionId = record.id;
    if (core.isTokenExpired(record)) throw Errors.invalidWebhookToken();
    if (!record.acknowledged) throw Errors.unknownWebhook();
    return record;
  };
  const webhookMessage = (record: InteractionRecord, messageId: string): Json => {
    const id = messageId === '@original' ? record.originalMessageId : messageId;
    if (!id || (id !== record.originalMessageId && !record.followUpIds.includes(id))) throw Errors.unknownMessage();
    const message = core.messages.get(id);
    if (!message) throw Errors.unknownMessage();
    return message;
  };
  const validateWebhookBody = (request: RouteRequest) => {
    const errors = validateMessagePayload(request.body, { fileCount: request.files.length });
    if (errors.length > 0) throw invalidFormBody(errors);
    core.checkUploadSize(request.files);
  };

  router.add(
    'POST',
    '/webhooks/:applicationId/:token',
    async (request): Promise<RouteResponse> => {
      const record = webhookInteraction(request);
      validateWebhookBody(request);
      const payload = request.body ?? {};
      if (isEmptyMessage(payload, request.files.length)) throw Errors.emptyMessage();
      const original = record.originalMessageId ? core.messages.get(record.originalMessageId) : undefined;
      let message: Json;
      if (original && original.flags & MessageFlags.Loading) {
        // Discord turns the first follow-up after a deferral into the deferred ("thinking") message itself.
        message = await core.messages.edit(original, { ...payload, flags: undefined }, request.files, MessageFlags.Loading);
        core.dispatchMessageUpdate(message);
      } else {
        message = await core.messages.create({
          channelId: record.channelId,
          author: core.world.botUser,
          payload,
          files: request.files,
          type: responseMessageType(record),
          extra: interactionMessageExtras(core, record, true),
        });
        record.followUpIds.push(message.id);
        core.dispatchMessageCreate(message);
      }
      request.notes.messageId = message.id;
      return request.query.get('wait') === 'false' ? { status: 204 } : { status: 200, body: message };
    },
    { auth: false },
  );

  router.add(
    'GET',
    '/webhooks/:applicationId/:token/messages/:messageId',
    (request) => {
      const message = webhookMessage(webhookInteraction(request), request.params.messageId!);
      request.notes.messageId = message.id;
      return { status: 200, body: message };
    },
    { auth: false },
  );

  router.add(
    'PATCH',
    '/webhooks/:applicationId/:token/messages/:messageId',
    async (request) => {
      const record = webhookInteraction(request);
      const message = webhookMessage(record, request.params.messageId!);
      request.notes.messageId = message.id;
      validateWebhookBody(request);
      // Any edit of a deferred response ends its loading state.
      await core.messages.edit(message, request.body ?? {}, request.files, MessageFlags.Loading);
      core.dispatchMessageUpdate(message);
      return { status: 200, body: message };
    },
    { auth: false },
  );

  router.add(
    'DELETE',
    '/webhooks/:applicationId/:token/messages/:messageId',
    (request) => {
      const record = webhookInteraction(request);
      const message = webhookMessage(record, request.params.messageId!);
      request.notes.messageId = message.id;
      core.messages.delete(message.id);
      core.dispatchMessageDelete(message);
      return { status: 204 };
    },
    { auth: false },
  );
}
