// One structured logger for the whole bot (pino). Secrets never reach it: see redact paths.
import { pino } from 'pino';

export const logger = pino({
  level: process.env.LOG_LEVEL ?? 'info',
  redact: { paths: ['token', '*.token', 'config.discordToken', 'headers.authorization', '*.headers.authorization'], censor: '[redacted]' },
});
export type Logger = typeof logger;
