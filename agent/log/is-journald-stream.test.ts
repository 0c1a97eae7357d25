import { fstatSync } from "node:fs";
import { mkdtemp, open, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, test } from "vitest";
import { isJournaldStream } from "./is-journald-stream.ts";

test("recognises journald's stream by the device and inode JOURNAL_STREAM names, and nothing else", async () => {
  const dir = await mkdtemp(join(tmpdir(), "fleetsync-journal-"));
  const handle = await open(join(dir, "stream"), "w");
  try {
    const st = fstatSync(handle.fd);
    expect(isJournaldStream({ JOURNAL_STREAM: `${st.dev}:${st.ino}` }, handle.fd)).toBe(true);
    // Inherited by a child whose stdout was redirected elsewhere: not journald.
    expect(isJournaldStream({ JOURNAL_STREAM: `${st.dev}:${st.ino + 1}` }, handle.fd)).toBe(false);
    expect(isJournaldStream({}, handle.fd)).toBe(false);
    expect(isJournaldStream({ JOURNAL_STREAM: `${st.dev}:${st.ino}` }, 987654)).toBe(false);
  } finally {
    await handle.close();
    await rm(dir, { recursive: true, force: true });
  }
});
