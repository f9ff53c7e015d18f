// One structured logger for the whole bot (pino). Secrets never reach it: see redact paths.
// Two faces: JSON lines for log collectors, or pino-pretty's one readable line per event for a person at a terminal.
// LOG_FORMAT picks (auto: pretty when stdout is a terminal, JSON otherwise); the entry points apply it, and LOG_LEVEL,
// once the configuration is validated (configureLogger), so a bad value is a configuration error, not a crash here.
import { pino, type DestinationStream } from 'pino';
import pretty from 'pino-pretty';
import type { LogFormat } from './config.ts';

/** pino-pretty for a terminal: the job id leads the message (what an operator looks for), other fields follow on the same line. */
export const PRETTY_OPTIONS = {
  translateTime: 'SYS:HH:MM:ss',
  ignore: 'pid,hostname,jobId',
  messageFormat: '{if jobId}job {jobId}: {end}{msg}',
  singleLine: true,
} as const;

export function resolveLogFormat(format: LogFormat, stdoutIsTTY: boolean): 'json' | 'pretty' {
  return format === 'auto' ? (stdoutIsTTY ? 'pretty' : 'json') : format;
}

const streams: Record<'json' | 'pretty', () => DestinationStream> = {
  json: () => pino.destination({ dest: 1, sync: true }),
  pretty: () => pretty({ ...PRETTY_OPTIONS, destination: 1, sync: true }),
};
const opened = new Map<'json' | 'pretty', DestinationStream>();
const streamFor = (format: 'json' | 'pretty') => opened.get(format) ?? opened.set(format, streams[format]()).get(format)!;

let current = streamFor(resolveLogFormat('auto', Boolean(process.stdout.isTTY)));
// pino keeps the stream it was created with; this one forwards to whichever format is chosen.
const output: DestinationStream = { write: (line: string) => current.write(line) };

export const logger = pino(
  {
    level: 'info',
    redact: { paths: ['token', '*.token', 'config.discordToken', 'headers.authorization', '*.headers.authorization'], censor: '[redacted]' },
  },
  output,
);
export type Logger = typeof logger;

/** Applies the validated LOG_LEVEL and LOG_FORMAT. */
export function configureLogger(options: { level: string; format: LogFormat }): void {
  logger.level = options.level;
  current = streamFor(resolveLogFormat(options.format, Boolean(process.stdout.isTTY)));
}
