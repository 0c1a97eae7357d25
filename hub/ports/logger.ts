// Structured logging for the hub: the Logger port (one JSON object per line; never tokens, keys or file contents).

export type LogFields = Record<string, unknown>;
export interface Logger {
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}
