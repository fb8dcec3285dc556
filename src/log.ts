/**
 * Structured logs for the audit trail: one JSON object per line, one line per action, always carrying the
 * rollout id and image (and the group when there is one), so CloudWatch Logs Insights can answer
 * "what did rollout X do to group web".
 */

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** Fields every line of one rollout carries. */
export interface LogContext {
  readonly rolloutId?: string;
  readonly imageId?: string;
  readonly autoScalingGroupName?: string;
  readonly step?: string;
  readonly [field: string]: unknown;
}

export type LogSink = (line: string) => void;

export interface Logger {
  debug(action: string, fields?: Record<string, unknown>): void;
  info(action: string, fields?: Record<string, unknown>): void;
  warn(action: string, fields?: Record<string, unknown>): void;
  error(action: string, fields?: Record<string, unknown>): void;
  /** A logger whose lines also carry `context` (e.g. the group being refreshed). */
  child(context: LogContext): Logger;
}

export interface LoggerOptions {
  /** Default: `process.stdout`, one line per entry (Lambda ships stdout to CloudWatch Logs). */
  readonly sink?: LogSink;
  /** Default: `() => new Date()`; local mode passes the virtual clock. */
  readonly now?: () => Date;
}

const defaultSink: LogSink = (line) => {
  process.stdout.write(`${line}\n`);
};

export function createLogger(context: LogContext = {}, options: LoggerOptions = {}): Logger {
  const sink = options.sink ?? defaultSink;
  const now = options.now ?? (() => new Date());
  const write = (level: LogLevel, action: string, fields: Record<string, unknown> = {}): void => {
    sink(JSON.stringify({ time: now().toISOString(), level, action, ...context, ...fields }, errorReplacer));
  };
  return {
    debug: (action, fields) => write('debug', action, fields),
    info: (action, fields) => write('info', action, fields),
    warn: (action, fields) => write('warn', action, fields),
    error: (action, fields) => write('error', action, fields),
    child: (more) => createLogger({ ...context, ...more }, options),
  };
}

/** A logger that drops everything, for callers that do not care. */
export const silentLogger: Logger = createLogger({}, { sink: () => {} });

function errorReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) return { name: value.name, message: value.message };
  return value;
}
