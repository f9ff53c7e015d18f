// The pipeline's errors that callers branch on (the inference process rebuilds them by name on the other side).

export class GenerationCancelledError extends Error {
  override name = 'AbortError';
  constructor(reason = 'cancelled') {
    super(`generation ${reason}`);
  }
}

/** A request the pipeline cannot run as given; the message is meant for the user. */
export class InvalidRequestError extends Error {
  override name = 'InvalidRequestError';
}
