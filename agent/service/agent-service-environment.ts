// The environment the agent's systemd unit runs it in: glibc malloc settings that keep an idle agent's memory small (issue 10).

/**
 * glibc raises its mmap threshold each time a large block is freed (up to 32 MiB) and then keeps up to twice that
 * free at the top of its heap. Node reading the 800 KiB bundle at start is such a block: it left ~7 MiB of freed
 * malloc memory resident in every idle agent (10.5 MiB `[heap]` instead of 3.4), and a sync's large buffers leave
 * more. A fixed threshold turns that off: every block over 128 KiB (glibc's default) is mapped on its own and goes
 * back to the system when freed.
 */
export const AGENT_SERVICE_ENVIRONMENT: Readonly<Record<string, string>> = {
  MALLOC_MMAP_THRESHOLD_: "131072",
};
