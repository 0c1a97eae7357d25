// The heartbeat of a device that does not long-poll: it keeps asking, says once when the hub is unreachable.
import { expect, test } from "vitest";
import type { AgentLogger } from "../log/agent-logger.ts";
import { runHeartbeat } from "./run-heartbeat.ts";

function recordingLog() {
  const lines: string[] = [];
  const log = {
    debug: () => {},
    info: (m: string) => lines.push(`info ${m}`),
    warn: (m: string) => lines.push(`warn ${m}`),
    error: (m: string) => lines.push(`error ${m}`),
    child: () => log,
  } as unknown as AgentLogger;
  return { log, lines };
}

test("calls the hub every interval until aborted, warning once per outage", async () => {
  const controller = new AbortController();
  const answers = [true, false, false, true, true];
  let calls = 0;
  const client = {
    async config() {
      const ok = answers[calls++] ?? true;
      if (calls >= answers.length) controller.abort();
      if (!ok) throw new Error("hub http://127.0.0.1:1 is unreachable (ECONNREFUSED)");
      return { deviceId: "d", hubId: "h", shares: [] };
    },
  };
  const { log, lines } = recordingLog();

  await runHeartbeat({ client, log, signal: controller.signal, intervalMs: 1 });

  expect(calls).toBe(5);
  expect(lines).toEqual(["warn could not reach the hub; will keep trying", "info the hub answers again"]);
});
