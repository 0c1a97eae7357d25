// How the agent's systemd unit runs it: glibc malloc settings and node flags that keep an idle agent's memory small (issue 10).

/**
 * glibc raises its mmap threshold each time a large block is freed (up to 32 MiB) and then keeps up to twice that
 * free at the top of its heap. Node reading the 800 KiB bundle at start is such a block: it left ~7 MiB of freed
 * malloc memory resident in every idle agent (10.5 MiB `[heap]` instead of 3.4), and a sync's large buffers leave
 * more. A fixed threshold turns that off, and a low one keeps the heap from fragmenting: a replica's socket reads
 * (64 KiB buffers shrunk to what arrived) and block buffers, freed in any order, left 31–37 MiB of `[heap]` that
 * glibc never gave back (free() only trims the top). With 8 KiB every such buffer is its own mapping and goes back
 * to the system when freed: after a 1,000-file sync and 30 s idle the replica holds 61 MiB instead of 88 (`[heap]`
 * 6 MiB instead of 33), the source 58; the sync's time was the same within the noise of 2-core runs.
 */
export const AGENT_SERVICE_ENVIRONMENT: Readonly<Record<string, string>> = {
  MALLOC_MMAP_THRESHOLD_: "8192",
  // The heap grows by what is asked, no more: with glibc's default padding, an idle replica kept 21–23 MiB of
  // freed `[heap]` after receiving one 100 MiB file (smaps, 30 s idle); with none, 3.4 MiB.
  MALLOC_TOP_PAD_: "0",
};

/**
 * Node flags for the bundle (node only reads this one from its command line; set from inside the process it does
 * nothing). A function is optimized by TurboFan after 4× as much of its bytecode ran as V8's default (66 KiB): the
 * start-up code of an idle agent then never reaches it, so the process maps none of TurboFan's machine code (3.5 MiB
 * of the idle RSS); a sync's hot loops are still optimized, a few milliseconds later. The single executable cannot
 * take node flags (Node 20's single-executable config has no execArgv).
 */
export const AGENT_NODE_FLAGS: readonly string[] = ["--interrupt-budget=270336"];
