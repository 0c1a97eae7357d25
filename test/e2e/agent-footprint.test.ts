// What the shipped (bundled) agent daemon loads: syncing through a Node hub needs no undici, TLS or zlib (issue 10's idle memory).
import { readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, expect, test } from "vitest";
import { bundleAgent } from "../../scripts/bundle-agent.ts";
import {
  type Fleet,
  makeTempDir,
  ON_WORKERS_HUB,
  REPO_ROOT,
  startAgent,
  startFleet,
  waitForConvergence,
  writeFiles,
} from "../support/fleet.ts";

let fleet: Fleet | undefined;
afterEach(async () => {
  await fleet?.stop();
  fleet = undefined;
});

let dir: string;
let bundle: string;
let preload: string;
beforeAll(async () => {
  dir = await makeTempDir("fleetsync-footprint-");
  bundle = join(dir, "fleetsync-agent.cjs");
  await bundleAgent({ repoRoot: REPO_ROOT, outFile: bundle, version: "test" });
  // Node's own record of the built-in modules this process loaded, written as it exits.
  preload = join(dir, "record-modules.cjs");
  await writeFile(
    preload,
    `process.once("exit", () => require("node:fs").writeFileSync(process.env.MODULES_OUT, JSON.stringify(process.moduleLoadList)));\n`,
  );
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

test("the bundled replica syncs through the hub without loading undici, and without TLS or zlib from a Node hub", async () => {
  fleet = await startFleet({ replicas: 1 });
  const replica = fleet.replicas[0]!;
  await replica.agent.stop();
  const modulesOut = join(dir, "modules.json");
  replica.agent = startAgent(
    replica.stateDir,
    { MODULES_OUT: modulesOut },
    { command: [process.execPath, `--require=${preload}`, bundle] },
  );
  await writeFiles(fleet.sourceRoot, { "a.txt": "one\n", "sub/b.bin": Buffer.alloc(300_000, 7) });
  await waitForConvergence(fleet);
  expect(await replica.agent.stop()).toBe(0);

  const loaded = JSON.parse(await readFile(modulesOut, "utf8")) as string[];
  expect(loaded).toContain("NativeModule http"); // it did talk to the hub, over node:http
  expect(loaded).not.toContain("NativeModule internal/deps/undici/undici");
  // A Workers hub offers wake sockets, and ws brings TLS and zlib with it.
  if (!ON_WORKERS_HUB) {
    expect(loaded).not.toContain("NativeModule tls");
    expect(loaded).not.toContain("NativeModule zlib");
  }
});
