// How the CLI ends: exit 0 ok, 1 failure (one readable line), 2 usage error (with a pointer to --help).
import { FleetsyncError } from "../shared/errors/fleetsync-error.ts";

export class UsageError extends Error {
  override name = "UsageError";
}

export function reportFailure(error: unknown): number {
  if (error instanceof UsageError) {
    process.stderr.write(`fleetsync: ${error.message}\n`);
    return 2;
  }
  if (error instanceof FleetsyncError) {
    process.stderr.write(`fleetsync: ${error.message}\n`);
    return 1;
  }
  const code = (error as NodeJS.ErrnoException)?.code;
  if (
    code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" ||
    code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE" ||
    code === "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL"
  ) {
    // Node's parseArgs appends a long hint about '--' to unknown options; the first sentence is enough.
    const message = (error as Error).message.replace(/\. To specify a positional argument.*$/s, "");
    process.stderr.write(`fleetsync: ${message}; see --help\n`);
    return 2;
  }
  process.stderr.write(`fleetsync: ${(error as Error)?.message ?? String(error)}\n`);
  return 1;
}
