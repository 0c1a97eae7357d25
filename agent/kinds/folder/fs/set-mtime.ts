// The seconds to hand utimes so a file's mtime reads back (floored to ms) as the whole millisecond intended.
/**
 * utimes takes seconds as a double; near 1.8e9 s a double resolves ~0.24 µs, so 1795318076.3 lands just below
 * .300 and floors to .299 ms. Half a microsecond of headroom keeps the floor exact.
 */
export function mtimeSeconds(ms: number): number {
  return (ms + 0.0005) / 1000;
}
