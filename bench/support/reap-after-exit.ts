// A detached watchdog that stops processes and removes directories if the bench dies without cleaning up.
//
// Ctrl-C reaches every process in the terminal's group, but Pi-hole FTL ignores SIGINT, and tsx SIGKILLs the bench
// when it does not confirm the signal within 30 ms (easily missed on a loaded machine): then no handler runs. The
// watchdog lives in its own process group, polls the bench's PID, and does the cleanup itself once it is gone.
import { spawn } from "node:child_process";
import { appendFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export type Reaper = {
  /** Adds processes started later (hub, agents) to those stopped if the bench dies. */
  add: (pids: (number | undefined)[]) => void;
  /** The bench cleaned up itself: the watchdog ends without touching anything. */
  dismiss: () => void;
};

const SCRIPT = `
parent=$1; shift
while kill -0 "$parent" 2>/dev/null; do sleep 1; done
pids=$(cat "$PIDFILE" 2>/dev/null)
for pid in $pids; do kill -TERM "$pid" 2>/dev/null; done
sleep 5
for pid in $pids; do kill -KILL "$pid" 2>/dev/null; done
rm -rf -- "$@" "$PIDFILE"
`;

let armed = 0;

/** After this process exits (however it exits), SIGTERM `pids` and those added later (SIGKILL 5 s on), remove `dirs`. */
export function reapAfterExit(options: { pids: (number | undefined)[]; dirs: string[] }): Reaper {
  const pidFile = join(tmpdir(), `fleetsync-bench-reap-${process.pid}-${armed++}.pids`);
  const add = (pids: (number | undefined)[]) => {
    const known = pids.filter((pid) => pid !== undefined);
    if (known.length > 0) appendFileSync(pidFile, `${known.join("\n")}\n`);
  };
  add(options.pids);
  const child = spawn("sh", ["-c", SCRIPT, "reap-after-exit", String(process.pid), ...options.dirs], {
    detached: true,
    stdio: "ignore",
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", PIDFILE: pidFile },
  });
  child.on("error", () => {});
  child.unref();
  return {
    add,
    dismiss() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      rmSync(pidFile, { force: true });
    },
  };
}
