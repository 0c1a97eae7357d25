// A detached watchdog that stops processes and removes directories if the bench dies without cleaning up.
//
// Ctrl-C reaches every process in the terminal's group, but Pi-hole FTL ignores SIGINT, and tsx SIGKILLs the bench
// when it does not confirm the signal within 30 ms (easily missed on a loaded machine): then no handler runs. The
// watchdog lives in its own process group, polls the bench's PID, and does the cleanup itself once it is gone.
import { spawn } from "node:child_process";

export type Reaper = {
  /** The bench cleaned up itself: the watchdog ends without touching anything. */
  dismiss: () => void;
};

const SCRIPT = `
parent=$1; shift
while kill -0 "$parent" 2>/dev/null; do sleep 1; done
for pid in $PIDS; do kill -TERM "$pid" 2>/dev/null; done
sleep 5
for pid in $PIDS; do kill -KILL "$pid" 2>/dev/null; done
rm -rf -- "$@"
`;

/** After this process exits (however it exits), SIGTERM `pids` (SIGKILL 5 s later) and remove `dirs`. */
export function reapAfterExit(options: { pids: number[]; dirs: string[] }): Reaper {
  const child = spawn("sh", ["-c", SCRIPT, "reap-after-exit", String(process.pid), ...options.dirs], {
    detached: true,
    stdio: "ignore",
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", PIDS: options.pids.join(" ") },
  });
  child.on("error", () => {});
  child.unref();
  return {
    dismiss() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    },
  };
}
