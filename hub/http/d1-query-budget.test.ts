// D1's limits, counted on the real routes: no query binds more than 100 parameters, a 5,000-entry report stays within one invocation's 1,000 D1 calls.
import { afterEach, expect, test } from "vitest";
import { MIN_BLOCK_BYTES } from "../../shared/blocks/block-size.ts";
import { contentHash } from "../../shared/blocks/content-hash.ts";
import { MAX_ENTRIES_PER_REPORT } from "../../shared/protocol/messages.ts";
import { createTestHub, type TestHub } from "../../test/support/test-hub-context.ts";
import { WORKER_LIMITS } from "../main.worker.ts";

/**
 * D1's documented limits: bound parameters per query, and queries per Worker invocation (paid plan), which D1
 * counts as subrequests: one db.batch([...]) is one call, however many statements it carries.
 */
const D1_MAX_PARAMS = 100;
const D1_MAX_CALLS_PER_INVOCATION = 1000;

let hub: TestHub | undefined;
afterEach(async () => {
  await hub?.close();
  hub = undefined;
});

test("a 5,000-entry report on the Workers limits binds at most 100 parameters per query and makes fewer than 1,000 D1 calls", async () => {
  const statements: number[] = [];
  let counting = false;
  hub = await createTestHub({
    limits: WORKER_LIMITS,
    onQuery: (_sql, params) => {
      if (counting) statements.push(params.length);
    },
  });
  await hub.createShare("big");
  const source = await hub.enroll(await hub.mintToken([{ name: "big", role: "source" }]));
  // Batches do not reach the query logger: count them as the one call each is.
  let batches = 0;
  const batch = hub.ctx.db.batch.bind(hub.ctx.db);
  hub.ctx.db.batch = ((queries: Parameters<typeof batch>[0]) => {
    if (counting) batches++;
    return batch(queries);
  }) as unknown as typeof batch;
  const hash = await contentHash(0, MIN_BLOCK_BYTES, []);
  const entries = [
    { path: "dir", type: "dir", mode: 0o755 },
    ...Array.from({ length: MAX_ENTRIES_PER_REPORT - 1 }, (_, i) => ({
      path: `dir/file-${i}.txt`,
      type: "file",
      size: 0,
      mode: 0o644,
      mtimeMs: 1_700_000_000_000,
      blockSize: MIN_BLOCK_BYTES,
      blocks: [],
      hash,
    })),
  ];
  counting = true;
  const response = await hub.deviceFetch(source, "POST", "/v1/shares/big/reports", { entries });
  counting = false;
  expect(await response.json()).toEqual({ status: "accepted", accepted: 5000, head: 5000 });
  expect(Math.max(...statements)).toBeLessThanOrEqual(D1_MAX_PARAMS);
  expect(batches).toBe(1);
  expect(statements.length + batches).toBeLessThan(D1_MAX_CALLS_PER_INVOCATION);
});
