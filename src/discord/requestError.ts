// The refusal of a user's request: its message is one sentence meant for that user, shown privately. A leaf module
// (no imports) so that anything below the request builder can throw it without importing src/discord/requests.ts.
export class RequestError extends Error {
  override name = 'RequestError';
}
