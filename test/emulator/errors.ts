// Discord-shaped REST errors. Handlers throw ApiError; the server turns it into the response.
export interface FieldError {
  /** Path into the request body, e.g. ['data', 'components', 0, 'components', 1, 'custom_id']. */
  path: (string | number)[];
  code: string;
  message: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: Record<string, unknown>,
  ) {
    super(`${status} ${String(body.message)}`);
  }
}

export function discordError(status: number, code: number, message: string): ApiError {
  return new ApiError(status, { message, code });
}

/** 50035 "Invalid Form Body" with the nested `errors` object Discord builds from field paths. */
export function invalidFormBody(fieldErrors: FieldError[]): ApiError {
  const errors: Record<string, unknown> = {};
  for (const fieldError of fieldErrors) {
    let node = errors;
    for (const key of fieldError.path) {
      const name = String(key);
      node[name] ??= {};
      node = node[name] as Record<string, unknown>;
    }
    const list = (node._errors ??= []) as { code: string; message: string }[];
    list.push({ code: fieldError.code, message: fieldError.message });
  }
  return new ApiError(400, { message: 'Invalid Form Body', code: 50035, errors });
}

export const Errors = {
  notFound: () => discordError(404, 0, '404: Not Found'),
  unauthorized: () => discordError(401, 0, '401: Unauthorized'),
  unknownChannel: () => discordError(404, 10003, 'Unknown Channel'),
  unknownGuild: () => discordError(404, 10004, 'Unknown Guild'),
  unknownMember: () => discordError(404, 10007, 'Unknown Member'),
  unknownMessage: () => discordError(404, 10008, 'Unknown Message'),
  unknownUser: () => discordError(404, 10013, 'Unknown User'),
  unknownWebhook: () => discordError(404, 10015, 'Unknown Webhook'),
  unknownApplication: () => discordError(404, 10002, 'Unknown Application'),
  unknownCommand: () => discordError(404, 10063, 'Unknown application command'),
  unknownInteraction: () => discordError(404, 10062, 'Unknown interaction'),
  alreadyAcknowledged: () => discordError(400, 40060, 'Interaction has already been acknowledged.'),
  emptyMessage: () => discordError(400, 50006, 'Cannot send an empty message'),
  editOthersMessage: () => discordError(403, 50005, 'Cannot edit a message authored by another user'),
  missingAccess: () => discordError(403, 50001, 'Missing Access'),
  missingPermissions: () => discordError(403, 50013, 'Missing Permissions'),
  invalidWebhookToken: () => discordError(401, 50027, 'Invalid Webhook Token'),
  entityTooLarge: () => discordError(413, 40005, 'Request entity too large'),
} as const;
