// The drizzle database type every hub service takes; libSQL and D1 both provide this async API.
import type { LibSQLDatabase } from "drizzle-orm/libsql";
import type * as schema from "./schema.ts";

export type Database = LibSQLDatabase<typeof schema>;

/** Splits rows into chunks so one statement stays under the driver's bound-parameter limit. */
export function chunkForParams<T>(rows: T[], columnsPerRow: number, paramLimit: number): T[][] {
  const size = Math.max(1, Math.floor(paramLimit / columnsPerRow));
  const chunks: T[][] = [];
  for (let i = 0; i < rows.length; i += size) chunks.push(rows.slice(i, i + size));
  return chunks;
}
