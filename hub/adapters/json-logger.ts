// The hub's Logger: one JSON object per line to a writer (stdout on Node, console.log on Workers), or nothing.
import type { LogFields, Logger } from "../ports/logger.ts";

export function createJsonLogger(write: (line: string) => void, base: LogFields = {}): Logger {
  const log =
    (level: string) =>
    (message: string, fields: LogFields = {}) =>
      write(JSON.stringify({ time: new Date().toISOString(), level, msg: message, ...base, ...fields }));
  return { info: log("info"), warn: log("warn"), error: log("error") };
}

export const silentLogger: Logger = { info() {}, warn() {}, error() {} };
