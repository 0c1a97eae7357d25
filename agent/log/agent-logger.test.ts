import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, test, vi } from "vitest";
import { createAgentLogger } from "./agent-logger.ts";

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

async function logFile(): Promise<string> {
  dir = await mkdtemp(join(tmpdir(), "fleetsync-log-"));
  return join(dir, "agent.log");
}

const now = () => new Date("2026-12-01T12:00:00.000Z");

describe("createAgentLogger", () => {
  test("writes JSON lines to a file by default, with the base and child fields, dropping lines below the level", async () => {
    const file = await logFile();
    const log = createAgentLogger({ level: "info", destination: file, base: { device: "dev_1" }, now });
    const share = log.child({ share: "docs" });
    share.debug("not shown");
    share.info("applied change", { path: "a.txt" });
    log.error("hub unreachable");
    const lines = (await readFile(file, "utf8"))
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines).toEqual([
      {
        time: now().toISOString(),
        level: "info",
        msg: "applied change",
        device: "dev_1",
        share: "docs",
        path: "a.txt",
      },
      { time: now().toISOString(), level: "error", msg: "hub unreachable", device: "dev_1" },
    ]);
  });

  test("writes text when log.format is text", async () => {
    const file = await logFile();
    createAgentLogger({ level: "debug", destination: file, format: "text", now })
      .child({ share: "docs" })
      .warn("skipped a file", { path: "x.swp" });
    expect(await readFile(file, "utf8")).toBe(
      "2026-12-01T12:00:00.000Z WARN  skipped a file  share=docs path=x.swp\n",
    );
  });

  test("keeps the original (level, destination, base) form working", async () => {
    const file = await logFile();
    createAgentLogger("warn", file, { device: "dev_2" }).warn("careful");
    expect(JSON.parse(await readFile(file, "utf8"))).toMatchObject({
      level: "warn",
      msg: "careful",
      device: "dev_2",
    });
  });

  test("never prefixes journald priorities in a file, even with JOURNAL_STREAM set", async () => {
    const file = await logFile();
    createAgentLogger({ level: "info", destination: file, env: { JOURNAL_STREAM: "1:1" } }).info("x");
    expect((await readFile(file, "utf8")).startsWith("{")).toBe(true);
  });

  test("writes the stdout lines of one turn of the event loop in one write, in order", async () => {
    const write = vi.spyOn(process.stdout, "write").mockImplementation(() => true);
    try {
      const log = createAgentLogger({ level: "info", destination: "stdout", format: "json", now });
      log.info("create a.txt");
      log.info("create b.txt");
      log.warn("operation failed; will retry", { path: "c.txt" });
      expect(write).not.toHaveBeenCalled();
      await new Promise((resolve) => setImmediate(resolve));
      expect(write).toHaveBeenCalledTimes(1);
      const lines = String(write.mock.calls[0]?.[0])
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l).msg);
      expect(lines).toEqual(["create a.txt", "create b.txt", "operation failed; will retry"]);
    } finally {
      write.mockRestore();
    }
  });
});

describe("stdout lines of an idle agent", () => {
  test("go out at once, not when something else next wakes the event loop", async () => {
    const { spawn } = await import("node:child_process");
    const logger = new URL("./agent-logger.ts", import.meta.url).pathname;
    // Logged from a timer, as a scan's last line is; the loop then has nothing due until a timer 3 s later, which
    // says how long after the log call the line was written.
    const script = `import { createAgentLogger } from ${JSON.stringify(logger)};
const log = createAgentLogger({ level: "info", destination: "stdout", format: "json" });
const write = process.stdout.write.bind(process.stdout);
let loggedAt = 0;
let writtenAt = -1;
process.stdout.write = (text, ...rest) => {
  if (String(text).includes("full scan finished")) writtenAt = performance.now();
  return write(text, ...rest);
};
setTimeout(() => { loggedAt = performance.now(); log.info("full scan finished"); }, 100);
setTimeout(() => { write("written after " + Math.round(writtenAt - loggedAt) + " ms\\n"); process.exit(0); }, 3100);
setInterval(() => {}, 60_000);`;
    const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    try {
      let out = "";
      child.stdout.on("data", (chunk) => {
        out += String(chunk);
      });
      await vi.waitFor(() => expect(out).toMatch(/written after -?\d+ ms/), {
        timeout: 20_000,
        interval: 50,
      });
      // Written before the timer 3 s later ran (a line still waiting then reads as -1, a negative figure): order,
      // not speed, is what is asserted.
      const ms = Number(/written after (-?\d+) ms/.exec(out)?.[1]);
      expect(ms).toBeGreaterThanOrEqual(0);
    } finally {
      child.kill();
    }
  });
});
