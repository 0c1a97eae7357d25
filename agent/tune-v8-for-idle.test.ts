// The idle agent's V8 settings take effect when set from inside a running process.
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, test } from "vitest";

const run = promisify(execFile);
const MODULE = fileURLToPath(new URL("./tune-v8-for-idle.ts", import.meta.url));

/** Young-generation capacity (MiB) of a fresh Node process before and after it allocates ~100 MiB of short-lived objects. */
async function youngGeneration(tune: boolean, busy = false): Promise<{ before: number; after: number }> {
  const script = `
import { getHeapSpaceStatistics } from "node:v8";
import { tuneV8ForIdleAgent, whileBusy } from ${JSON.stringify(MODULE)};
const young = () => getHeapSpaceStatistics().find((s) => s.space_name === "new_space").space_size / 2 ** 20;
if (${tune}) tuneV8ForIdleAgent();
const before = young();
const churn = () => { let keep = []; for (let i = 0; i < 400_000; i++) { keep.push({ i, s: "x".repeat(64), a: [i, i] }); if (keep.length > 20_000) keep = []; } };
if (${busy}) await whileBusy(async () => churn()); else churn();
console.log(JSON.stringify({ before, after: young() }));`;
  const { stdout } = await run(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script]);
  return JSON.parse(stdout) as { before: number; after: number };
}

describe("tuneV8ForIdleAgent", () => {
  test("the young generation does not grow under allocation churn once tuned, where untuned V8 grows it", async () => {
    const [untuned, tuned] = await Promise.all([youngGeneration(false), youngGeneration(true)]);
    expect(untuned.after).toBeGreaterThan(untuned.before);
    expect(tuned.after).toBeLessThanOrEqual(tuned.before);
    expect(tuned.after).toBeLessThan(untuned.after);
  });

  test("the young generation grows again during a burst of work (whileBusy) in a tuned process", async () => {
    const busy = await youngGeneration(true, true);
    expect(busy.after).toBeGreaterThan(busy.before);
  });
});
