import { describe, expect, test } from "vitest";
import type { AgentLogger } from "./log/agent-logger.ts";
import { superviseTask } from "./supervise-task.ts";

function recordingLogger() {
  const lines: { level: string; message: string; fields: Record<string, unknown> }[] = [];
  const make = (): AgentLogger => ({
    debug: (message, fields = {}) => lines.push({ level: "debug", message, fields }),
    info: (message, fields = {}) => lines.push({ level: "info", message, fields }),
    warn: (message, fields = {}) => lines.push({ level: "warn", message, fields }),
    error: (message, fields = {}) => lines.push({ level: "error", message, fields }),
    child: () => make(),
  });
  return { log: make(), lines };
}

const FAST = { baseMs: 1, capMs: 4 };

describe("superviseTask", () => {
  test("restarts a task that throws, logging the share's name and the error, until it runs", async () => {
    const { log, lines } = recordingLogger();
    const controller = new AbortController();
    let runs = 0;
    await superviseTask(
      async () => {
        runs++;
        if (runs < 3) throw new Error(`state file broken (run ${runs})`);
        controller.abort();
      },
      { name: "docs", log, signal: controller.signal, backoff: FAST },
    );
    expect(runs).toBe(3);
    expect(lines.map((l) => l.message)).toEqual([
      expect.stringMatching(
        /^share task "docs" failed: state file broken \(run 1\); restarting it in \d+ ms$/,
      ),
      expect.stringMatching(
        /^share task "docs" failed: state file broken \(run 2\); restarting it in \d+ ms$/,
      ),
    ]);
    expect(lines.map((l) => [l.level, l.fields.share, l.fields.attempt])).toEqual([
      ["error", "docs", 1],
      ["error", "docs", 2],
    ]);
  });

  test("restarts a task that ends before it was asked to stop", async () => {
    const { log, lines } = recordingLogger();
    const controller = new AbortController();
    let runs = 0;
    await superviseTask(
      async () => {
        if (++runs === 2) controller.abort();
      },
      { name: "media", log, signal: controller.signal, backoff: FAST },
    );
    expect(runs).toBe(2);
    expect(lines[0]?.message).toMatch(/share task "media" failed: it stopped on its own/);
  });

  test("stops without a restart or an error when the task fails because it was aborted", async () => {
    const { log, lines } = recordingLogger();
    const controller = new AbortController();
    await superviseTask(
      async () => {
        controller.abort();
        throw new Error("cancelled");
      },
      { name: "docs", log, signal: controller.signal, backoff: FAST },
    );
    expect(lines).toEqual([]);
  });
});
