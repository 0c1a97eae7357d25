// One sentence a person reads about a hook run, for the log and the op log: what ran, how it ended, its last words.
import type { HookResult } from "./run-hook.ts";

export function describeHookResult(command: string, result: HookResult): string {
  const what = `onApply hook ${JSON.stringify(command)}`;
  if (result.error !== undefined) return `${what} could not start: ${result.error}`;
  const lastLine = result.output.trimEnd().split("\n").at(-1)?.trim();
  const said = lastLine ? `; last output: ${JSON.stringify(lastLine.slice(0, 200))}` : "";
  if (result.timedOut)
    return `${what} timed out after ${result.ms} ms and was stopped (${result.signal ?? "killed"}); raise onApply.timeoutSeconds if it needs longer${said}`;
  if (result.signal) return `${what} was ended by ${result.signal} after ${result.ms} ms${said}`;
  if (result.exitCode === 0) return `${what} succeeded in ${result.ms} ms`;
  return `${what} failed with exit code ${result.exitCode} after ${result.ms} ms${said}; it runs again only after the next applied change`;
}
