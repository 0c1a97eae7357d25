// Turns one log record into one line: JSON for machines, `LEVEL message key=value` for people, with journald's priority prefix.

export type LogLevel = "debug" | "info" | "warn" | "error";
export type LogFormat = "text" | "json";

/** syslog priorities as journald reads them from a `<N>` line prefix (sd-daemon(3)). */
export const JOURNALD_PRIORITY: Record<LogLevel, number> = { error: 3, warn: 4, info: 6, debug: 7 };

export type LogRecord = {
  time: Date;
  level: LogLevel;
  message: string;
  fields: Record<string, unknown>;
};

export type FormatLogLineOptions = {
  format: LogFormat;
  /** Writing to journald: prefix the priority and leave the time out of text lines (journald stamps them). */
  journald: boolean;
};

/** Fields a person looks for first, in this order; the rest follow as they came. */
const LEADING_FIELDS = ["share", "path"];

export function formatLogLine(record: LogRecord, options: FormatLogLineOptions): string {
  const body = options.format === "json" ? jsonLine(record) : textLine(record, !options.journald);
  return options.journald ? `<${JOURNALD_PRIORITY[record.level]}>${body}` : body;
}

function jsonLine({ time, level, message, fields }: LogRecord): string {
  return JSON.stringify({ time: time.toISOString(), level, msg: message, ...fields });
}

function textLine({ time, level, message, fields }: LogRecord, withTime: boolean): string {
  const keys = [
    ...LEADING_FIELDS.filter((k) => k in fields),
    ...Object.keys(fields).filter((k) => !LEADING_FIELDS.includes(k)),
  ];
  const pairs = keys.filter((k) => fields[k] !== undefined).map((k) => `${k}=${textValue(fields[k])}`);
  const head = `${withTime ? `${time.toISOString()} ` : ""}${level.toUpperCase().padEnd(5)} ${oneLine(message)}`;
  return pairs.length > 0 ? `${head}  ${pairs.join(" ")}` : head;
}

/** A bare word when it reads unambiguously, else JSON (quoted strings, arrays, objects); never a line break. */
function textValue(value: unknown): string {
  if (typeof value === "string") return /^[^\s"=\\]+$/.test(value) ? value : JSON.stringify(value);
  if (value instanceof Error) return JSON.stringify(value.message);
  return JSON.stringify(value) ?? String(value);
}

function oneLine(text: string): string {
  return text.replaceAll("\r", "\\r").replaceAll("\n", "\\n");
}
