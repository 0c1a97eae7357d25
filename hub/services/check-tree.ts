// Refuses a report that would leave a tree no disk can hold: a file or symlink with live entries below it.
import { and, eq, inArray, ne, or, sql } from "drizzle-orm";
import { FleetsyncError } from "../../shared/errors/fleetsync-error.ts";
import { parentOf } from "../../shared/paths/normalize-share-path.ts";
import type { Entry, EntryType } from "../../shared/protocol/entry.ts";
import { chunkForParams } from "../db/database.ts";
import { entries } from "../db/schema.ts";
import type { HubContext } from "./hub-context.ts";

/** Paths per descendant query (each adds three bound parameters; the query binds two more of its own). */
const MAX_RANGES_PER_QUERY = 200;

export type TreeCheckInput = {
  share: string;
  /** The entries the report changes (a subset of `reported`). */
  changed: Entry[];
  /** Every reported entry by path: the report's view wins over the committed one. */
  reported: Map<string, Entry>;
  /** The committed entries at the reported paths. */
  committed: Map<string, Entry>;
};

const isLeaf = (type: EntryType | undefined) => type === "file" || type === "symlink";

/** Throws 422 naming both paths when committed state plus the report would put a live entry below a file. */
export async function checkTree(ctx: HubContext, input: TreeCheckInput): Promise<void> {
  const { share, changed, reported } = input;
  const live = changed.filter((e) => e.type !== "deleted");
  const refuse = (leaf: string, below: string, kind: EntryType = "file") => {
    return new FleetsyncError(
      "invalid",
      `report for share "${share}" would leave "${leaf}" (a ${kind}) with "${below}" below it; a path cannot be both a ${kind} and a folder: report one of them deleted`,
    );
  };

  // Above each live entry: no ancestor may be a file or symlink once the report is applied.
  const ancestors = new Set<string>();
  for (const entry of live) {
    for (let p = parentOf(entry.path); p !== ""; p = parentOf(p)) ancestors.add(p);
  }
  const lookup = [...ancestors].filter((p) => !reported.has(p));
  const committedTypes = new Map<string, EntryType>();
  for (const chunk of chunkForParams(lookup, 1, ctx.limits.sqlParamLimit - 1)) {
    const rows = await ctx.db
      .select({ path: entries.path, type: entries.type })
      .from(entries)
      .where(and(eq(entries.share, share), inArray(entries.path, chunk)));
    for (const row of rows) committedTypes.set(row.path, row.type);
  }
  for (const entry of live) {
    for (let p = parentOf(entry.path); p !== ""; p = parentOf(p)) {
      const type = reported.get(p)?.type ?? committedTypes.get(p);
      if (isLeaf(type)) throw refuse(p, entry.path, type);
    }
  }

  // Below each entry that becomes a file or symlink: no committed live entry the report does not delete.
  const newLeaves = live.filter((e) => isLeaf(e.type) && !isLeaf(input.committed.get(e.path)?.type));
  const deletes = [...reported.values()].filter((e) => e.type === "deleted").length;
  // Each range its own indexed term (share = ? and path in [P/, P0)), so SQLite searches instead of scanning.
  // Besides the ranges the query binds the "deleted" type and its limit: two parameters.
  const perQuery = Math.max(
    1,
    Math.min(MAX_RANGES_PER_QUERY, Math.floor((ctx.limits.sqlParamLimit - 2) / 3)),
  );
  for (let i = 0; i < newLeaves.length; i += perQuery) {
    const chunk = newLeaves.slice(i, i + perQuery);
    const rows = await ctx.db
      .select({ path: entries.path })
      .from(entries)
      .where(
        and(
          or(
            ...chunk.map(
              (e) =>
                sql`(${entries.share} = ${share} and ${entries.path} >= ${`${e.path}/`} and ${entries.path} < ${`${e.path}0`})`,
            ),
          ),
          ne(entries.type, "deleted"),
        ),
      )
      .limit(deletes + 1);
    const below = rows.find((row) => reported.get(row.path)?.type !== "deleted");
    if (below) {
      const leaf = chunk.find((e) => below.path.startsWith(`${e.path}/`));
      throw refuse(leaf?.path ?? parentOf(below.path), below.path, leaf?.type);
    }
  }
}
