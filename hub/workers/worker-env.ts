// The Workers bindings and secrets (wrangler.toml), parsed with zod once per isolate into what the hub uses.
import type { drizzle } from "drizzle-orm/d1";
import { z } from "zod";
import { FleetsyncError } from "../../shared/errors/fleetsync-error.ts";
import { ENROL_ATTEMPTS_PER_MINUTE } from "../build-hub-context.ts";
import type { ObjectBucket } from "./r2-block-store.ts";
import type { DurableObjectNamespaceLike } from "./share-wakeups.ts";

type D1Binding = Parameters<typeof drizzle>[0];

/** A binding is an object with these methods; anything else means wrangler.toml and the code disagree. */
const binding = <T>(what: string, methods: string[]) =>
  z.custom<T>(
    (value) =>
      typeof value === "object" &&
      value !== null &&
      methods.every((m) => typeof (value as Record<string, unknown>)[m] === "function"),
    { message: `is not ${what}; declare it in wrangler.toml` },
  );

export const WorkerEnvSchema = z.object({
  DB: binding<D1Binding>("a D1 database binding", ["prepare", "batch"]),
  /** Block bytes (R2); D1 keeps only which blocks exist. */
  BLOCKS: binding<ObjectBucket>("an R2 bucket binding", ["put", "get", "delete"]),
  /** The ShareWakeups Durable Object namespace: wake sockets and long-poll wake-ups, one object per share. */
  WAKE: binding<DurableObjectNamespaceLike>("a Durable Object namespace binding (ShareWakeups)", [
    "idFromName",
    "get",
  ]),
  /** The RateWindow Durable Object namespace: rate limits counted across isolates. */
  LIMITS: binding<DurableObjectNamespaceLike>("a Durable Object namespace binding (RateWindow)", [
    "idFromName",
    "get",
  ]),
  /** The admin token; set it with `wrangler secret put ADMIN_TOKEN` (the Worker cannot print one). */
  /** Enrolment attempts one client address may make per minute. */
  ENROL_ATTEMPTS_PER_MINUTE: z.coerce.number().int().positive().default(ENROL_ATTEMPTS_PER_MINUTE),
  ADMIN_TOKEN: z
    .string()
    .optional()
    .transform((token) => token || undefined),
});

export type WorkerEnv = z.infer<typeof WorkerEnvSchema>;

/** Parses the env a Worker is called with; a wrong binding names itself and the fix. */
export function parseWorkerEnv(env: unknown): WorkerEnv {
  const parsed = WorkerEnvSchema.safeParse(env);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => `${issue.path.join(".") || "env"} ${issue.message}`);
  throw new FleetsyncError("unavailable", `the Worker's environment is wrong: ${problems.join("; ")}`, {
    retryable: false,
  });
}
