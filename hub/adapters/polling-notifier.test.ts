// The polling notifier: a head moved by another process wakes this process's waiters on that share, and only those.
import { expect, test } from "vitest";
import { createPollingNotifier } from "./polling-notifier.ts";

/** Heads another process changes, and how many times this process read them. */
function sharedHeads(initial: Record<string, number>) {
  const heads = new Map(Object.entries(initial));
  let reads = 0;
  return {
    heads,
    reads: () => reads,
    read: async () => {
      reads++;
      return new Map(heads);
    },
  };
}

async function until(condition: () => boolean) {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
}

test("wakes the waiters of a share whose head another process moved, and not those of other shares", async () => {
  const db = sharedHeads({ docs: 0, media: 0 });
  const notifier = createPollingNotifier(db.read, 10);
  const stop = new AbortController();
  let docsWoken = false;
  let mediaWoken = false;
  const docs = notifier.wait(["docs"], 60_000).then(() => {
    docsWoken = true;
  });
  const media = notifier.wait(["media"], 60_000, stop.signal).then(() => {
    mediaWoken = true;
  });
  await until(() => db.reads() >= 2);

  db.heads.set("docs", 1);
  await docs;
  const readsAtWake = db.reads();
  await until(() => db.reads() >= readsAtWake + 2);

  expect(docsWoken).toBe(true);
  expect(mediaWoken).toBe(false);
  stop.abort();
  await media;
});

test("a head moved while nobody waited wakes the next waiter, who may have checked before that commit", async () => {
  const db = sharedHeads({ docs: 0 });
  const notifier = createPollingNotifier(db.read, 10);
  await until(() => db.reads() >= 1);

  db.heads.set("docs", 1);
  await notifier.wait(["docs"], 60_000);

  expect(db.reads()).toBeGreaterThanOrEqual(2);
});

test("reads the heads once per interval however many requests wait", async () => {
  const db = sharedHeads({ docs: 0 });
  const notifier = createPollingNotifier(db.read, 50);
  const stop = new AbortController();
  const waits = Array.from({ length: 200 }, () => notifier.wait(["docs"], 60_000, stop.signal));
  await until(() => db.reads() >= 3);
  const reads = db.reads();

  stop.abort();
  await Promise.all(waits);

  // One poller: a handful of reads, where one poll loop per waiter would have made hundreds.
  expect(reads).toBeLessThan(10);
});
