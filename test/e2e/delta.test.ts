// Content-defined chunking end to end: a small insertion in a large file re-sends only the chunks around it.
import { randomBytes } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { type Fleet, startFleet, waitFor, waitForConvergence } from "../support/fleet.ts";
import { hubBlockStats } from "../support/hub-secrets.ts";

const MiB = 1024 * 1024;

let fleet: Fleet | undefined;
afterEach(async () => {
  await fleet?.stop();
  fleet = undefined;
});

/** Syncs a 6 MiB file, replaces it with `edit(original)`, waits for the replica to hold it; the hub's new block bytes. */
async function uploadedForEdit(
  edit: (original: Buffer) => Buffer,
): Promise<{ original: Buffer; uploaded: number }> {
  fleet = await startFleet({ replicas: 1 });
  const original = randomBytes(6 * MiB);
  await writeFile(join(fleet.sourceRoot, "big.bin"), original);
  await waitForConvergence(fleet, 90_000);
  const before = await hubBlockStats(fleet.hub.dataDir);
  expect(before.bytes).toBeGreaterThanOrEqual(original.length);

  const edited = edit(original);
  await writeFile(join(fleet.sourceRoot, "big.bin"), edited);
  const replicaFile = join(fleet.replicas[0]!.root, "big.bin");
  await waitFor(
    async () => {
      const bytes = await readFile(replicaFile).catch(() => undefined);
      return bytes?.equals(edited) ? true : undefined;
    },
    { timeoutMs: 90_000, what: "the edited file on the replica" },
  );
  return { original, uploaded: (await hubBlockStats(fleet.hub.dataDir)).bytes - before.bytes };
}

describe("delta sync of a large file", () => {
  test("a 4 KiB insertion at the start of a 6 MiB file reaches the replica byte-identical, uploading a small fraction of the file", async () => {
    const { original, uploaded } = await uploadedForEdit((file) => Buffer.concat([randomBytes(4096), file]));
    expect(uploaded).toBeGreaterThanOrEqual(4096);
    // Fixed blocks would re-send everything after the insertion (6 MiB); chunks around it are a few hundred KiB.
    expect(uploaded).toBeLessThan(original.length / 10);
  });

  test("a 4 KiB overwrite in the middle of a 6 MiB file uploads only the chunks it touched", async () => {
    const { original, uploaded } = await uploadedForEdit((file) => {
      const edited = Buffer.from(file);
      randomBytes(4096).copy(edited, 3 * MiB);
      return edited;
    });
    expect(uploaded).toBeGreaterThanOrEqual(4096);
    expect(uploaded).toBeLessThan(original.length / 10);
  });
});
