// Parses human durations such as "90s", "15m", "24h", "7d" into milliseconds.

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export function parseDurationMs(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(text.trim());
  if (!match) return undefined;
  const value = Math.round(Number(match[1]) * (UNIT_MS[match[2]!] ?? 0));
  return Number.isSafeInteger(value) && value > 0 ? value : undefined;
}
