// `npm run demo` really shows a change replicating: its scripted part run to completion.
import { spawn } from "node:child_process";
import { join } from "node:path";
import { expect, test } from "vitest";
import { REPO_ROOT } from "../support/fleet.ts";

test("the demo starts a hub, a source and two replicas and shows every file arriving on both", async () => {
  const child = spawn(
    process.execPath,
    [join(REPO_ROOT, "node_modules", "tsx", "dist", "cli.mjs"), "demo/run-demo.ts", "--once"],
    {
      cwd: REPO_ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let output = "";
  child.stdout.on("data", (chunk) => {
    output += chunk;
  });
  child.stderr.on("data", (chunk) => {
    output += chunk;
  });
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  expect(output).toContain("demo done: every file arrived on both replicas.");
  expect(code).toBe(0);
  expect(output).toMatch(/hub {8}http:\/\/127\.0\.0\.1:\d+/);
  for (const file of ["hello.txt", "config/app.conf", "notes/today.md"]) {
    expect(output).toMatch(
      new RegExp(`${file.replace(".", "\\.")}\\s+→ replica-1 in \\d+ ms, replica-2 in \\d+ ms`),
    );
  }
});
