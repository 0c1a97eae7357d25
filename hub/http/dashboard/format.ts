// How the dashboard writes times, sizes and statuses for people.

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

export function formatAgo(atMs: number | null, nowMs: number): string {
  if (atMs === null) return "never";
  const seconds = Math.max(0, Math.round((nowMs - atMs) / 1000));
  if (seconds < 60) return `${seconds} s ago`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.round(minutes / 60);
  if (hours < 48) return `${hours} h ago`;
  return `${Math.round(hours / 24)} d ago`;
}

export function isoOrEmpty(atMs: number | null): string {
  return atMs === null ? "" : new Date(atMs).toISOString();
}

/** A CSS class per status word: problems red or amber, the rest green or grey. */
export function statusClass(status: string): string {
  return `status status-${status.replaceAll(" ", "-")}`;
}
