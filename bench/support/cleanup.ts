// Cleanup that must also run when the bench is interrupted: child processes stopped, temp data removed.

const tasks = new Set<() => Promise<unknown>>();

/** Registers `fn` to run on SIGINT/SIGTERM; returns a function that unregisters it (call it once cleaned up). */
export function onInterrupt(fn: () => Promise<unknown>): () => void {
  tasks.add(fn);
  return () => tasks.delete(fn);
}

export function installInterruptHandler(log: (message: string) => void): void {
  const handler = (signal: NodeJS.Signals) => {
    log(`${signal}: stopping processes and removing temp data`);
    void Promise.allSettled([...tasks].map((fn) => fn())).then(() => process.exit(130));
  };
  process.once("SIGINT", handler);
  process.once("SIGTERM", handler);
}
