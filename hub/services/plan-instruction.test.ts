import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { normalizeSharePath, parentOf } from "../../shared/paths/normalize-share-path.ts";
import { type Entry, isSameEntry, type SequencedEntry } from "../../shared/protocol/entry.ts";
import { type Plan, type PlanInput, planInstruction } from "./plan-instruction.ts";

// ---------------------------------------------------------------------------------------------------------------
// A model of the hub's entry table: a source history on a small path universe, kept tree-consistent the way a
// scanning source reports it (parents become directories, a replaced or deleted directory tombstones what was
// below it), committed like commitReport does: every change that differs from the current row gets the next seq.
// ---------------------------------------------------------------------------------------------------------------

const UNIVERSE = ["a", "b", "c", "a/x", "a/y", "a/x/q", "b/z", "b/z/w"] as const;
const BLOCK = 131072;
const IMPLICIT_DIR_MODE = 0o111; // what a tree-aware replica gives a parent it had to create on its own

type SourceOp = {
  kind: "write" | "mkdir" | "symlink" | "delete";
  path: (typeof UNIVERSE)[number];
  n: number;
  /** Whether the tombstones of what lay below come before or after the change itself (the scanner does both). */
  belowFirst: boolean;
};

type History = {
  /** Current row per path, tombstones included, as in the hub's entries table. */
  table: Map<string, SequencedEntry>;
  /** Every committed change in seq order (log[i].seq === i + 1). */
  log: SequencedEntry[];
  head: number;
};

const ancestorsOf = (path: string): string[] => {
  const out: string[] = [];
  for (let p = parentOf(path); p !== ""; p = parentOf(p)) out.unshift(p);
  return out;
};
const isBelow = (path: string, ancestor: string) => path.startsWith(`${ancestor}/`);
const hex = (n: number, salt: number) => ((n * 7919 + salt) >>> 0).toString(16).padStart(64, "0");

function fileEntry(path: string, n: number): Entry {
  const blockCount = n % 5;
  return {
    path,
    type: "file",
    size: blockCount === 0 ? 0 : (blockCount - 1) * BLOCK + 1 + (n % 1000),
    mode: n % 2 === 0 ? 0o644 : 0o600,
    mtimeMs: 1_700_000_000_000 + n,
    blockSize: BLOCK,
    blocks: Array.from({ length: blockCount }, (_, i) => hex(n, i)),
    hash: hex(n, 999),
  };
}
const dirEntry = (path: string, mode: number): Entry => ({
  path,
  type: "dir",
  size: 0,
  mode,
  mtimeMs: 0,
  blockSize: BLOCK,
  blocks: [],
  hash: "",
});
const symlinkEntry = (path: string, n: number): Entry => ({
  ...dirEntry(path, 0),
  type: "symlink",
  target: `../target-${n % 4}`,
});
const tombstone = (path: string): Entry => ({ ...dirEntry(path, 0), type: "deleted" });

function buildHistory(ops: SourceOp[]): History {
  const table = new Map<string, SequencedEntry>();
  const log: SequencedEntry[] = [];
  const live = () => [...table.values()].filter((e) => e.type !== "deleted");

  const commit = (entry: Entry) => {
    const existing = table.get(entry.path);
    if (existing ? isSameEntry(existing, entry) : entry.type === "deleted") return;
    const sequenced = { ...entry, seq: log.length + 1 };
    table.set(entry.path, sequenced);
    log.push(sequenced);
  };
  const ensureParents = (path: string) => {
    for (const ancestor of ancestorsOf(path)) {
      if (table.get(ancestor)?.type !== "dir") commit(dirEntry(ancestor, 0o755));
    }
  };
  const tombstonesBelow = (path: string) =>
    live()
      .filter((e) => isBelow(e.path, path))
      .sort((x, y) => y.path.length - x.path.length)
      .map((e) => tombstone(e.path));
  const replace = (entry: Entry, belowFirst: boolean) => {
    ensureParents(entry.path);
    const below = entry.type === "dir" ? [] : tombstonesBelow(entry.path);
    for (const change of belowFirst ? [...below, entry] : [entry, ...below]) commit(change);
  };

  for (const op of ops) {
    switch (op.kind) {
      case "write":
        replace(fileEntry(op.path, op.n), op.belowFirst);
        break;
      case "symlink":
        replace(symlinkEntry(op.path, op.n), op.belowFirst);
        break;
      case "mkdir":
        replace(dirEntry(op.path, op.n % 2 === 0 ? 0o755 : 0o700), op.belowFirst);
        break;
      case "delete":
        if (table.get(op.path)?.type !== "deleted" && table.has(op.path)) {
          replace(tombstone(op.path), op.belowFirst);
        }
        break;
    }
  }
  return { table, log, head: log.length };
}

type State = Map<string, Entry>;

const withoutSeq = ({ seq: _seq, ...entry }: SequencedEntry): Entry => entry;

/** What the source had after change `seq`: the history replayed up to it. */
function stateAt(history: History, seq: number): State {
  const state: State = new Map();
  for (const change of history.log.slice(0, seq)) {
    if (change.type === "deleted") state.delete(change.path);
    else state.set(change.path, withoutSeq(change));
  }
  return state;
}

/** The simplest replica: set or replace the path, or delete it. */
function applyFlat(state: State, ops: SequencedEntry[]): void {
  for (const op of ops) {
    if (op.type === "deleted") state.delete(op.path);
    else state.set(op.path, withoutSeq(op));
  }
}

/** A replica with tree rules, like a file system: parents must be directories, replacing a directory drops its contents. */
function applyTree(state: State, ops: SequencedEntry[]): void {
  const dropBelow = (path: string) => {
    for (const key of [...state.keys()]) if (isBelow(key, path)) state.delete(key);
  };
  for (const op of ops) {
    const parentsAreDirs = ancestorsOf(op.path).every((a) => state.get(a)?.type === "dir");
    if (op.type === "deleted") {
      if (parentsAreDirs) {
        state.delete(op.path);
        dropBelow(op.path);
      }
      continue;
    }
    for (const ancestor of ancestorsOf(op.path)) {
      if (state.get(ancestor)?.type !== "dir") state.set(ancestor, dirEntry(ancestor, IMPLICIT_DIR_MODE));
    }
    if (op.type !== "dir") dropBelow(op.path);
    state.set(op.path, withoutSeq(op));
  }
}

function sorted(state: State): [string, Entry][] {
  return [...state.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

type Limits = { maxOps: number; maxBlockRefs: number; slices: number[]; deletes: "propagate" | "keep" };

/** Plans from the cursor until the head is reached, as the hub's long-poll would, recording every plan. */
function syncToHead(history: History, cursor: number, limits: Limits) {
  const plans: { input: PlanInput; plan: Plan }[] = [];
  let at = cursor;
  for (let round = 0; at < history.head; round++) {
    if (round > history.head + 1) throw new Error(`no progress from cursor ${at} after ${round} plans`);
    const pending = [...history.table.values()]
      .filter((e) => e.seq > at && e.seq <= history.head)
      .sort((x, y) => x.seq - y.seq);
    const slice = Math.max(1, limits.slices[round % limits.slices.length] ?? pending.length);
    const entries = pending.slice(0, slice);
    const input: PlanInput = {
      entries,
      complete: entries.length === pending.length,
      cursor: at,
      head: history.head,
      deletes: limits.deletes,
      maxOps: limits.maxOps,
      maxBlockRefs: limits.maxBlockRefs,
    };
    const plan = planInstruction(input);
    plans.push({ input, plan });
    at = plan.toSeq;
  }
  return plans;
}

const sourceOpArb: fc.Arbitrary<SourceOp> = fc.record({
  kind: fc.constantFrom("write", "write", "mkdir", "symlink", "delete", "delete"),
  path: fc.constantFrom(...UNIVERSE),
  n: fc.nat({ max: 50 }),
  belowFirst: fc.boolean(),
});
const historyArb = fc.array(sourceOpArb, { maxLength: 40 }).map(buildHistory);
/** A history plus a replica cursor somewhere in it (0 = a fresh replica, head = up to date). */
const scenarioArb = historyArb.chain((history) =>
  fc.record({ history: fc.constant(history), cursor: fc.integer({ min: 0, max: history.head }) }),
);
const limitsArb = (deletes: "propagate" | "keep"): fc.Arbitrary<Limits> =>
  fc.record({
    maxOps: fc.integer({ min: 1, max: 6 }),
    maxBlockRefs: fc.integer({ min: 1, max: 8 }),
    slices: fc.array(fc.oneof(fc.integer({ min: 1, max: 7 }), fc.constant(1000)), {
      minLength: 1,
      maxLength: 4,
    }),
    deletes: fc.constant(deletes),
  });

const RUNS = { numRuns: 400 };

describe("the history model", () => {
  test("produces a tree: every live entry's parents are live directories", () => {
    fc.assert(
      fc.property(historyArb, (history) => {
        const state = stateAt(history, history.head);
        for (const path of state.keys()) {
          for (const ancestor of ancestorsOf(path)) expect(state.get(ancestor)?.type).toBe("dir");
        }
        expect(history.log.every((e, i) => e.seq === i + 1)).toBe(true);
      }),
      RUNS,
    );
  });
});

describe("planInstruction", () => {
  test("brings a replica at any cursor to exactly the source's state, however the plans are split", () => {
    fc.assert(
      fc.property(scenarioArb, limitsArb("propagate"), ({ history, cursor }, limits) => {
        const replica = stateAt(history, cursor);
        for (const { plan } of syncToHead(history, cursor, limits)) applyFlat(replica, plan.ops);
        expect(sorted(replica)).toEqual(sorted(stateAt(history, history.head)));
      }),
      RUNS,
    );
  });

  test("brings a replica that follows tree rules to the source's state too", () => {
    fc.assert(
      fc.property(scenarioArb, limitsArb("propagate"), ({ history, cursor }, limits) => {
        // Mid-report cursors exist (plans split anywhere), so the replica's start is the log replayed by tree rules.
        const replica: State = new Map();
        applyTree(replica, history.log.slice(0, cursor));
        for (const { plan } of syncToHead(history, cursor, limits)) applyTree(replica, plan.ops);
        expect(sorted(replica)).toEqual(sorted(stateAt(history, history.head)));
      }),
      RUNS,
    );
  });

  test("hands out every change between fromSeq and toSeq once, in sequence order, and nothing else", () => {
    fc.assert(
      fc.property(scenarioArb, limitsArb("propagate"), ({ history, cursor }, limits) => {
        for (const { plan } of syncToHead(history, cursor, limits)) {
          const expected = [...history.table.values()]
            .filter((e) => e.seq > plan.fromSeq && e.seq <= plan.toSeq)
            .sort((x, y) => x.seq - y.seq);
          expect(plan.ops).toEqual(expected);
        }
      }),
      RUNS,
    );
  });

  test("always moves forward: each plan starts at the cursor and ends past it, never beyond the head", () => {
    fc.assert(
      fc.property(scenarioArb, limitsArb("propagate"), ({ history, cursor }, limits) => {
        let previous = cursor;
        for (const { input, plan } of syncToHead(history, cursor, limits)) {
          expect(plan.fromSeq).toBe(input.cursor);
          expect(plan.fromSeq).toBe(previous);
          expect(plan.toSeq).toBeGreaterThan(plan.fromSeq);
          expect(plan.toSeq).toBeLessThanOrEqual(history.head);
          previous = plan.toSeq;
        }
        expect(previous).toBe(history.head);
      }),
      RUNS,
    );
  });

  test("keeps within maxOps, and within maxBlockRefs unless one entry alone exceeds it", () => {
    fc.assert(
      fc.property(scenarioArb, limitsArb("propagate"), ({ history, cursor }, limits) => {
        for (const { plan } of syncToHead(history, cursor, limits)) {
          expect(plan.ops.length).toBeLessThanOrEqual(limits.maxOps);
          const refs = plan.ops.reduce((sum, op) => sum + op.blocks.length, 0);
          if (plan.ops.length > 1) expect(refs).toBeLessThanOrEqual(limits.maxBlockRefs);
        }
      }),
      RUNS,
    );
  });

  test("never hands out a path outside the share", () => {
    fc.assert(
      fc.property(scenarioArb, limitsArb("propagate"), ({ history, cursor }, limits) => {
        for (const { plan } of syncToHead(history, cursor, limits)) {
          for (const op of plan.ops) expect(normalizeSharePath(op.path)).toEqual({ ok: true, path: op.path });
        }
      }),
      RUNS,
    );
  });

  test("plans nothing for a replica already at the head", () => {
    fc.assert(
      fc.property(historyArb, fc.boolean(), (history, complete) => {
        const all = [...history.table.values()].sort((x, y) => x.seq - y.seq);
        const plan = planInstruction({
          entries: complete ? all : all.slice(0, 1),
          complete,
          cursor: history.head,
          head: history.head,
          deletes: "propagate",
          maxOps: 3,
          maxBlockRefs: 3,
        });
        expect(plan).toEqual({ fromSeq: history.head, toSeq: history.head, ops: [] });
      }),
      RUNS,
    );
  });

  test("with deletes kept, hands out no tombstone yet still reaches the head, keeping what was deleted", () => {
    fc.assert(
      fc.property(scenarioArb, limitsArb("keep"), ({ history, cursor }, limits) => {
        const replica = stateAt(history, cursor);
        const plans = syncToHead(history, cursor, limits);
        for (const { plan } of plans) {
          expect(plan.ops.filter((op) => op.type === "deleted")).toEqual([]);
          applyFlat(replica, plan.ops);
        }
        expect(plans.at(-1)?.plan.toSeq ?? cursor).toBe(history.head);
        // Every live source entry arrived; a path whose last change was a deletion keeps what the replica had.
        const atCursor = stateAt(history, cursor);
        const expected: State = new Map(stateAt(history, history.head));
        for (const row of history.table.values()) {
          const before = atCursor.get(row.path);
          if (row.type === "deleted" && before) expected.set(row.path, before);
        }
        expect(sorted(replica)).toEqual(sorted(expected));
      }),
      RUNS,
    );
  });

  test("ignores entries at or below the cursor and above the head", () => {
    const history = buildHistory([
      { kind: "write", path: "a", n: 1, belowFirst: true },
      { kind: "write", path: "b", n: 2, belowFirst: true },
      { kind: "write", path: "c", n: 3, belowFirst: true },
    ]);
    const all = [...history.table.values()].sort((x, y) => x.seq - y.seq);
    const plan = planInstruction({
      entries: all,
      complete: true,
      cursor: 1,
      head: 2,
      deletes: "propagate",
      maxOps: 10,
      maxBlockRefs: 100,
    });
    expect(plan).toEqual({ fromSeq: 1, toSeq: 2, ops: [all[1]] });
  });

  test("takes a first entry with more block references than allowed on its own rather than stalling", () => {
    const big = { ...fileEntry("big", 4), seq: 1 };
    const small = { ...fileEntry("small", 1), seq: 2 };
    const plan = planInstruction({
      entries: [big, small],
      complete: true,
      cursor: 0,
      head: 2,
      deletes: "propagate",
      maxOps: 10,
      maxBlockRefs: 1,
    });
    expect(big.blocks.length).toBeGreaterThan(1);
    expect(plan).toEqual({ fromSeq: 0, toSeq: 1, ops: [big] });
  });

  test("stops at the last entry it was given when the slice was cut short", () => {
    const entries = [1, 2, 3].map((seq) => ({ ...dirEntry(`d${seq}`, 0o755), seq }));
    const plan = planInstruction({
      entries,
      complete: false,
      cursor: 0,
      head: 10,
      deletes: "propagate",
      maxOps: 10,
      maxBlockRefs: 10,
    });
    expect(plan.toSeq).toBe(3);
    expect(plan.ops).toEqual(entries);
  });

  test("jumps to the head when the slice is complete, across seqs whose rows were overwritten later", () => {
    const history = buildHistory([
      { kind: "write", path: "a", n: 1, belowFirst: true },
      { kind: "write", path: "b", n: 2, belowFirst: true },
      { kind: "write", path: "a", n: 3, belowFirst: true },
    ]);
    const entries = [...history.table.values()].sort((x, y) => x.seq - y.seq);
    expect(entries.map((e) => e.seq)).toEqual([2, 3]);
    const plan = planInstruction({
      entries,
      complete: true,
      cursor: 0,
      head: history.head,
      deletes: "propagate",
      maxOps: 10,
      maxBlockRefs: 10,
    });
    expect(plan.toSeq).toBe(3);
  });
});

describe("planInstruction with block-list deltas", () => {
  const base = "b".repeat(64);
  const file: SequencedEntry = {
    path: "big.bin",
    seq: 7,
    type: "file",
    size: 32,
    mode: 0o644,
    mtimeMs: 1,
    blockSize: 16,
    blocks: ["1".repeat(64), "2".repeat(64)],
    blockLengths: [16, 16],
    hash: "h".repeat(64),
  };
  const plan = (cursor: number, withDeltas: boolean) =>
    planInstruction({
      entries: [
        {
          ...file,
          blocksDelta: { base, baseSeq: 4, ops: [[0, 1], { add: ["2".repeat(64)], lengths: [16] }] },
        },
      ],
      complete: true,
      cursor,
      head: 7,
      deletes: "propagate",
      maxOps: 10,
      maxBlockRefs: 100,
      withDeltas,
    }).ops;

  test("sends the delta to a receiver whose cursor is at or past the version it replaced", () => {
    const { blockLengths: _, ...rest } = file;
    const delta = {
      ...rest,
      blocks: [],
      blocksFrom: { base, ops: [[0, 1], { add: ["2".repeat(64)], lengths: [16] }] },
    };
    expect(plan(4, true)).toEqual([delta]);
    expect(plan(6, true)).toEqual([delta]);
  });

  test("sends the whole list to a receiver before that version, or one that does not expand deltas", () => {
    expect(plan(3, true)).toEqual([file]);
    expect(plan(5, false)).toEqual([file]);
  });
});
