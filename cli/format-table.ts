// Aligned plain-text tables for people; --json output is printed as is for scripts.

export function formatTable(
  headers: string[],
  rows: (string | number | boolean | null | undefined)[][],
): string {
  const cells = [
    headers,
    ...rows.map((row) => row.map((v) => (v === null || v === undefined ? "-" : String(v)))),
  ];
  const widths = headers.map((_, i) => Math.max(...cells.map((row) => (row[i] ?? "").length)));
  return cells
    .map((row) =>
      row
        .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}
