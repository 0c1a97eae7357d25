import { describe, expect, test } from "vitest";
import type { SequencedEntry } from "../../../../shared/protocol/entry.ts";
import type { IndexEntry } from "../../../state/share-state.ts";
import type { FsStat } from "../fs/share-fs.ts";
import {
  type ApplyPolicy,
  type LocalFacts,
  orderOperations,
  PERMISSION_BITS,
  planOperation,
} from "./plan-operation.ts";

const HASH = "a".repeat(64);
const OTHER = "b".repeat(64);
const MTIME = 1_700_000_000_000;

function op(type: SequencedEntry["type"], extra: Partial<SequencedEntry> = {}): SequencedEntry {
  return {
    path: "p",
    type,
    size: type === "file" ? 3 : 0,
    mode: type === "file" ? 0o644 : type === "dir" ? 0o755 : 0,
    mtimeMs: type === "file" ? MTIME : 0,
    blockSize: 131072,
    blocks: type === "file" ? ["c".repeat(64)] : [],
    hash: "",
    seq: 7,
    ...(type === "symlink" ? { target: "t" } : {}),
    ...extra,
  };
}
const stat = (type: FsStat["type"], extra: Partial<FsStat> = {}): FsStat => ({
  type,
  size: type === "file" ? 3 : 0,
  mtimeMs: type === "file" ? MTIME : 0,
  ino: 10,
  mode: type === "file" ? 0o644 : type === "dir" ? 0o755 : 0o777,
  ...extra,
});
const facts = (s: FsStat | undefined, extra: Partial<LocalFacts> = {}): LocalFacts => ({
  stat: s,
  blockedAncestor: false,
  ...extra,
});
const knownFile: IndexEntry = {
  type: "file",
  size: 3,
  mtimeMs: MTIME,
  ino: 10,
  mode: 0o644,
  blockSize: 131072,
  blocks: [],
  hash: OTHER,
};
const replica: ApplyPolicy = {
  deletes: "propagate",
  modeMask: PERMISSION_BITS,
  unreportedLocalChange: "overwrite",
};
const peer: ApplyPolicy = { ...replica, unreportedLocalChange: "report" };
const keep: ApplyPolicy = { ...replica, deletes: "keep" };

describe("planOperation", () => {
  test.each([
    [
      "a file where nothing is",
      op("file"),
      facts(undefined),
      undefined,
      replica,
      { action: "create", inTheWay: "nothing", mode: 0o644 },
    ],
    [
      "the same file already there",
      op("file"),
      facts(stat("file"), { hash: HASH }),
      knownFile,
      replica,
      { action: "unchanged" },
    ],
    [
      "same content, other mode",
      op("file"),
      facts(stat("file", { mode: 0o600 }), { hash: HASH }),
      knownFile,
      replica,
      { action: "metadata", mode: 0o644 },
    ],
    [
      "same content, other mtime",
      op("file"),
      facts(stat("file", { mtimeMs: 5 }), { hash: HASH }),
      knownFile,
      replica,
      { action: "metadata", mtimeMs: MTIME },
    ],
    [
      "other content",
      op("file"),
      facts(stat("file"), { hash: OTHER }),
      knownFile,
      replica,
      { action: "update", inTheWay: "file", mode: 0o644 },
    ],
    [
      "dir → file",
      op("file"),
      facts(stat("dir")),
      undefined,
      replica,
      { action: "update", inTheWay: "other", mode: 0o644 },
    ],
    [
      "symlink → file",
      op("file"),
      facts(stat("symlink")),
      undefined,
      replica,
      { action: "update", inTheWay: "other", mode: 0o644 },
    ],
    [
      "file under a blocked ancestor",
      op("file"),
      facts(undefined, { blockedAncestor: true }),
      undefined,
      replica,
      { action: "create", inTheWay: "nothing", mode: 0o644 },
    ],
    [
      "setuid bits are masked off",
      op("file", { mode: 0o4755 }),
      facts(undefined),
      undefined,
      replica,
      { action: "create", inTheWay: "nothing", mode: 0o755 },
    ],
    [
      "setuid bits kept when the share opts in",
      op("file", { mode: 0o4755 }),
      facts(undefined),
      undefined,
      { ...replica, modeMask: 0o7777 },
      { action: "create", inTheWay: "nothing", mode: 0o4755 },
    ],
    [
      "a dir where nothing is",
      op("dir"),
      facts(undefined),
      undefined,
      replica,
      { action: "mkdir", inTheWay: "nothing", mode: 0o755 },
    ],
    [
      "file → dir",
      op("dir"),
      facts(stat("file")),
      undefined,
      replica,
      { action: "mkdir", inTheWay: "file", mode: 0o755 },
    ],
    ["the same dir", op("dir"), facts(stat("dir")), undefined, replica, { action: "unchanged" }],
    [
      "a dir with other mode",
      op("dir"),
      facts(stat("dir", { mode: 0o700 })),
      undefined,
      replica,
      { action: "metadata", mode: 0o755 },
    ],
    [
      "the same symlink",
      op("symlink"),
      facts(stat("symlink"), { target: "t" }),
      undefined,
      replica,
      { action: "unchanged" },
    ],
    [
      "a symlink with another target",
      op("symlink"),
      facts(stat("symlink"), { target: "u" }),
      undefined,
      replica,
      { action: "symlink", inTheWay: "other" },
    ],
    [
      "file → symlink",
      op("symlink"),
      facts(stat("file")),
      undefined,
      replica,
      { action: "symlink", inTheWay: "file" },
    ],
    ["delete what is there", op("deleted"), facts(stat("file")), knownFile, replica, { action: "delete" }],
    ["delete what is gone", op("deleted"), facts(undefined), knownFile, replica, { action: "unchanged" }],
    [
      "delete below a blocked ancestor",
      op("deleted"),
      facts(undefined, { blockedAncestor: true }),
      knownFile,
      replica,
      { action: "unchanged" },
    ],
    [
      "delete on a deletes: keep share",
      op("deleted"),
      facts(stat("file")),
      knownFile,
      keep,
      { action: "skip", reason: "deletes: keep" },
    ],
    [
      "a replica overwrites a local edit",
      op("file"),
      facts(stat("file", { ino: 99 }), { hash: OTHER }),
      knownFile,
      replica,
      { action: "update", inTheWay: "file", mode: 0o644 },
    ],
    [
      "a peer leaves a local edit to be reported",
      op("file"),
      facts(stat("file", { ino: 99 }), { hash: OTHER }),
      knownFile,
      peer,
      { action: "defer", reason: "changed here since the last report; reporting it first" },
    ],
    [
      "a peer leaves a local new file to be reported",
      op("file"),
      facts(stat("file"), { hash: OTHER }),
      undefined,
      peer,
      { action: "defer", reason: "changed here since the last report; reporting it first" },
    ],
    [
      "a peer whose local edit equals the operation: nothing to do",
      op("file"),
      facts(stat("file", { ino: 99 }), { hash: HASH }),
      knownFile,
      peer,
      { action: "unchanged" },
    ],
    [
      "a peer applies over what it reported",
      op("file"),
      facts(stat("file"), { hash: OTHER }),
      knownFile,
      peer,
      { action: "update", inTheWay: "file", mode: 0o644 },
    ],
    [
      "a peer keeps a locally edited file the hub deletes",
      op("deleted"),
      facts(stat("file", { ino: 99 })),
      knownFile,
      peer,
      { action: "defer", reason: "changed here since the last report; reporting it first" },
    ],
    [
      "a replica deletes a locally edited file (into trash)",
      op("deleted"),
      facts(stat("file", { ino: 99 })),
      knownFile,
      replica,
      { action: "delete" },
    ],
  ])("%s", (_name, operation, local, known, policy, expected) => {
    expect(
      planOperation(operation, local, known as IndexEntry | undefined, policy as ApplyPolicy, HASH),
    ).toEqual(expected);
  });
});

describe("orderOperations", () => {
  test("writes in sequence order first, then deletions deepest path first", () => {
    const ops = [
      op("deleted", { path: "a", seq: 1 }),
      op("file", { path: "b", seq: 5 }),
      op("deleted", { path: "a/x", seq: 2 }),
      op("dir", { path: "c", seq: 3 }),
    ];
    expect(orderOperations(ops).map((o) => o.path)).toEqual(["c", "b", "a/x", "a"]);
  });
});
