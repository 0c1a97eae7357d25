// One error type for every layer: a code a program can branch on, a message a person can act on.
import { z } from "zod";

export const ERROR_CODES = [
  "bad_request",
  "unauthenticated",
  "token_expired",
  "forbidden",
  "awaiting_approval",
  "not_found",
  "conflict",
  "token_used",
  "payload_too_large",
  "invalid",
  "rate_limited",
  "internal",
  "unavailable",
  "insufficient_storage",
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export const STATUS_BY_CODE: Record<ErrorCode, number> = {
  bad_request: 400,
  unauthenticated: 401,
  token_expired: 401,
  forbidden: 403,
  awaiting_approval: 403,
  not_found: 404,
  conflict: 409,
  token_used: 409,
  payload_too_large: 413,
  invalid: 422,
  rate_limited: 429,
  internal: 500,
  unavailable: 503,
  insufficient_storage: 507,
};

export class FleetsyncError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  /** How long the caller should wait before trying again (sent as Retry-After), when that is known. */
  readonly retryAfterSeconds: number | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    options: { cause?: unknown; retryable?: boolean; retryAfterSeconds?: number } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = "FleetsyncError";
    this.code = code;
    this.retryable =
      options.retryable ??
      (code === "internal" ||
        code === "unavailable" ||
        code === "rate_limited" ||
        code === "awaiting_approval" ||
        code === "insufficient_storage");

    this.retryAfterSeconds = options.retryAfterSeconds;
  }

  get status(): number {
    return STATUS_BY_CODE[this.code];
  }
}

export const ErrorBodySchema = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    requestId: z.string(),
  }),
});
export type ErrorBody = z.infer<typeof ErrorBodySchema>;

/** Formats a zod failure as one line naming the first offending field. */
export function describeZodError(error: z.ZodError, where = "body"): string {
  const issue = error.issues[0];
  if (!issue) return `${where} is invalid`;
  const field = issue.path.length > 0 ? issue.path.join(".") : "(root)";
  return `${where} field "${field}": ${issue.message}`;
}
