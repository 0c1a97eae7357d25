// The Workers env is parsed once: bindings checked by shape, a wrong one named with the fix, defaults applied.
import { expect, test } from "vitest";
import { parseWorkerEnv } from "./worker-env.ts";

const fn = () => undefined;
const bindings = {
  DB: { prepare: fn, batch: fn },
  BLOCKS: { put: fn, get: fn, delete: fn },
  WAKE: { idFromName: fn, get: fn },
  LIMITS: { idFromName: fn, get: fn },
};

test("a complete env parses, with the enrolment limit defaulting to 20 and an empty ADMIN_TOKEN meaning none", () => {
  const env = parseWorkerEnv({ ...bindings, ADMIN_TOKEN: "" });
  expect(env.ENROL_ATTEMPTS_PER_MINUTE).toBe(20);
  expect(env.ADMIN_TOKEN).toBeUndefined();
  expect(env.DB).toBe(bindings.DB);
});

test("a variable given as text (wrangler vars are strings) is read as a number", () => {
  expect(parseWorkerEnv({ ...bindings, ENROL_ATTEMPTS_PER_MINUTE: "500" }).ENROL_ATTEMPTS_PER_MINUTE).toBe(
    500,
  );
});

test("a missing or wrong binding is named with the fix, every problem at once", () => {
  const { BLOCKS: _blocks, ...withoutBlocks } = bindings;
  expect(() => parseWorkerEnv({ ...withoutBlocks, WAKE: "not a namespace" })).toThrow(
    /BLOCKS is not an R2 bucket binding; declare it in wrangler\.toml; WAKE is not a Durable Object namespace binding/,
  );
});

test("an enrolment limit that is not a positive whole number is refused", () => {
  expect(() => parseWorkerEnv({ ...bindings, ENROL_ATTEMPTS_PER_MINUTE: "0" })).toThrow(
    /ENROL_ATTEMPTS_PER_MINUTE/,
  );
});
