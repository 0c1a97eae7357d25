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

/** Lines for stdout not written yet: they go out together, once per turn of the event loop, and at exit. */
let pendingStdout: string[] = [];
let stdoutFlushScheduled = false;
let exitHooked = false;

function flushStdout(): void {
  stdoutFlushScheduled = false;
  if (pendingStdout.length === 0) return;
  const text = pendingStdout.join("");
  pendingStdout = [];
  process.stdout.write(text);
}

/**
 * Writes a line to stdout with the others of the same turn: a pipe's stdout is written synchronously, one system
 * call per write, and a replica logging each file it applied spent ~8 % of its CPU in those calls. What is still
 * pending when the process exits (process.exit, an uncaught error) is written by the exit handler.
 */
function writeStdoutLine(line: string): void {
  pendingStdout.push(`${line}\n`);
  if (stdoutFlushScheduled) return;
  stdoutFlushScheduled = true;
  if (!exitHooked) {
    exitHooked = true;
    process.on("exit", flushStdout);
  }
  // Not unref()ed: with only unref()ed immediates pending, the loop sleeps until some timer or I/O wakes it (a
  // line logged once a scan finished went out with the next heartbeat, seconds later).
  setImmediate(flushStdout);
}

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
    ? writeStdoutLine
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
