// Reads a request's JSON body or query against a shared zod schema: 400 says where it broke, 422 names the field.
import type { Context } from "hono";
import type { z } from "zod";
import { describeZodError, FleetsyncError } from "../../shared/errors/fleetsync-error.ts";
import { describeTextOffset, jsonErrorOffset } from "./json-error-offset.ts";

export async function readJson<S extends z.ZodType>(c: Context, schema: S): Promise<z.infer<S>> {
  const text = await c.req.text();
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const offset = jsonErrorOffset(text);
    const where = offset === undefined ? "" : ` at ${describeTextOffset(text, offset)}`;
    throw new FleetsyncError(
      "bad_request",
      `request body is not valid JSON${where}: ${(error as Error).message}`,
    );
  }
  return validate(schema, value, "body");
}

export function validate<S extends z.ZodType>(schema: S, value: unknown, where: string): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new FleetsyncError("invalid", describeZodError(parsed.error, where));
  return parsed.data;
}
