// The agent's structured log: JSON lines with level filtering, to stdout or a file.
import { appendFileSync } from "node:fs";

export type LogLevel = "debug" | "info" | "warn" | "error";
const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export type AgentLogger = {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): AgentLogger;
};

export function createAgentLogger(
  level: LogLevel,
  destination: string,
  base: Record<string, unknown> = {},
): AgentLogger {
  const write =
    destination === "stdout"
      ? (line: string) => process.stdout.write(`${line}\n`)
      : (line: string) => appendFileSync(destination, `${line}\n`);
  const make = (fields: Record<string, unknown>): AgentLogger => {
    const at =
      (lvl: LogLevel) =>
      (message: string, extra: Record<string, unknown> = {}) => {
        if (RANK[lvl] < RANK[level]) return;
        write(
          JSON.stringify({ time: new Date().toISOString(), level: lvl, msg: message, ...fields, ...extra }),
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
  return make(base);
}
