// The agent's log: leveled records, as text for people or JSON lines, to stdout (journald-aware) or a file.
import { appendFileSync } from "node:fs";
import { formatLogLine, type LogFormat, type LogLevel } from "./format-log-line.ts";
import { isJournaldStream } from "./is-journald-stream.ts";

export type { LogLevel } from "./format-log-line.ts";

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export type AgentLogger = {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): AgentLogger;
};

/** `auto`: text on a terminal or journald, JSON lines on anything else (a pipe, a file). */
export type LogFormatSetting = LogFormat | "auto";

export type AgentLoggerOptions = {
  level: LogLevel;
  /** "stdout", or a file to append to. */
  destination: string;
  format?: LogFormatSetting;
  base?: Record<string, unknown>;
  /** Where JOURNAL_STREAM is read from; the process's environment by default. */
  env?: NodeJS.ProcessEnv;
  now?: () => Date;
};

export function createAgentLogger(options: AgentLoggerOptions): AgentLogger;
/** The original form, kept for callers not yet passing options: format `auto`. */
export function createAgentLogger(
  level: LogLevel,
  destination: string,
  base?: Record<string, unknown>,
): AgentLogger;
export function createAgentLogger(
  first: AgentLoggerOptions | LogLevel,
  destination?: string,
  base?: Record<string, unknown>,
): AgentLogger {
  const options: AgentLoggerOptions =
    typeof first === "string" ? { level: first, destination: destination ?? "stdout", base } : first;
  const toStdout = options.destination === "stdout";
  const journald = toStdout && isJournaldStream(options.env ?? process.env, 1);
  const format: LogFormat =
    options.format === "text" || options.format === "json"
      ? options.format
      : journald || (toStdout && process.stdout.isTTY)
        ? "text"
        : "json";
  const write = toStdout
    ? (line: string) => process.stdout.write(`${line}\n`)
    : (line: string) => appendFileSync(options.destination, `${line}\n`);
  const now = options.now ?? (() => new Date());
  const make = (fields: Record<string, unknown>): AgentLogger => {
    const at =
      (level: LogLevel) =>
      (message: string, extra: Record<string, unknown> = {}) => {
        if (RANK[level] < RANK[options.level]) return;
        write(
          formatLogLine(
            { time: now(), level, message, fields: { ...fields, ...extra } },
            { format, journald },
          ),
        );
      };
    return {
      debug: at("debug"),
      info: at("info"),
      warn: at("warn"),
      error: at("error"),
      child: (more) => make({ ...fields, ...more }),
    };
  };
  return make(options.base ?? {});
}
