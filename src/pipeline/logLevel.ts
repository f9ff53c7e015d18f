// Pipeline log lines are plain strings (they cross the worker's IPC as such); a line that must reach an operator's
// attention starts with WARNING_PREFIX, and the bot's and worker's loggers log it at warn level.
export const WARNING_PREFIX = 'warning: ';

export function isWarning(message: string): boolean {
  return message.startsWith(WARNING_PREFIX);
}
