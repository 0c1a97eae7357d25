// Alerts end to end: a real hub calls a webhook receiver on loopback with `error` when a replica on a full tmpfs
// fails to apply (and `recovered` when it heals), and with `offline` for a device silent past --offline-after.
// The tmpfs part needs root to mount (CI runs as root).
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, expect, test } from "vitest";
import { hasChromium, launchBrowser } from "../support/browser.ts";
import {
  enrollAgent,
  type Fleet,
  makeTempDir,
  runCli,
  startAgent,
  startFleet,
  waitFor,
  waitForConvergence,
  writeFiles,
} from "../support/fleet.ts";
import { canMountTmpfs, tryMount } from "../support/tmpfs.ts";
import { startWebhookReceiver, type WebhookReceiver } from "../support/webhook-receiver.ts";

const canMount = await canMountTmpfs();

let fleet: Fleet | undefined;
let receiver: WebhookReceiver | undefined;
let mounted: string | undefined;
afterEach(async () => {
  await fleet?.stop().catch(() => {});
  await receiver?.close();
  if (mounted) execFileSync("umount", ["-l", mounted]);
  fleet = undefined;
  receiver = undefined;
  mounted = undefined;
});

async function addAlert(f: Fleet, url: string, ...flags: string[]) {
  const added = await runCli(["alert", "add", "--url", url, ...flags, "--data", f.hub.dataDir]);
  expect(added.output).toMatch(/^alert al_\w+ added: /);
  expect(added.code).toBe(0);
}

test.skipIf(!canMount)(
  "a replica that fails on a full disk fires error with the agent's reason, then recovered once it has room",
  async () => {
    fleet = await startFleet({ replicas: 0 });
    receiver = await startWebhookReceiver();
    await addAlert(fleet, receiver.url, "--on", "error,recovered");
    const root = join(await makeTempDir("fleetsync-small-disk-"), "replica");
    await mkdir(root);
    expect(tryMount(root, "4m")).toBe(true);
    mounted = root;
    const enrolled = await enrollAgent(fleet.hub, fleet.share, "replica", root);
    fleet.replicas.push({ root, ...enrolled, agent: startAgent(enrolled.stateDir) });

    await writeFiles(fleet.sourceRoot, { "big.bin": randomBytes(6 * 1024 * 1024) });

    const error = await waitFor(() => receiver!.events().find((e) => e.what === "error"), {
      timeoutMs: 45_000,
      what: "the error event",
    });
    expect(error).toMatchObject({
      share: fleet.share,
      device: { id: enrolled.deviceId, name: expect.stringMatching(/^replica-/) },
      hubId: expect.any(String),
    });
    expect(String(error.why)).toMatch(/^big\.bin: disk full \(ENOSPC\)/);
    expect(Date.parse(String(error.when))).toBeGreaterThan(Date.now() - 60_000);

    if (hasChromium) {
      // For a person to look at: how the failing replica reads on the dashboard.
      const browser = await launchBrowser();
      try {
        await browser.page.goto(`${fleet.hub.url}/login`);
        await browser.page.fill('input[name="token"]', fleet.hub.adminToken);
        await browser.page.click('button:has-text("Log in")');
        await browser.page.waitForSelector(`tr[data-device="${enrolled.deviceId}"] .error`);
        expect(await browser.page.textContent(`tr[data-device="${enrolled.deviceId}"] .error`)).toMatch(
          /disk full/,
        );
        console.log(`dashboard screenshot: ${await browser.screenshot("dashboard-fleet-erroring")}`);
        await browser.page.goto(`${fleet.hub.url}/shares/${fleet.share}`);
        console.log(`dashboard screenshot: ${await browser.screenshot("dashboard-share-erroring")}`);
      } finally {
        await browser.close();
      }
    }

    execFileSync("mount", ["-o", "remount,size=32m", root]);
    await waitForConvergence(fleet, 60_000);
    // The next change it applies cleanly clears its error at the hub (whether the retry itself told the hub or not).
    await writeFiles(fleet.sourceRoot, { "after.txt": "room again\n" });
    await waitForConvergence(fleet, 60_000);
    await waitFor(() => receiver!.events().find((e) => e.what === "recovered"), {
      timeoutMs: 30_000,
      what: "the recovered event",
    });
    expect(receiver.events().filter((e) => e.what === "error")).toHaveLength(1);
  },
  180_000,
);

test("a device silent past --offline-after fires offline naming it", async () => {
  fleet = await startFleet({ replicas: 1 });
  receiver = await startWebhookReceiver();
  await addAlert(fleet, receiver.url, "--on", "offline", "--offline-after", "1m");
  const replica = fleet.replicas[0]!;
  await waitForConvergence(fleet);
  await replica.agent.stop();

  const offline = await waitFor(
    () =>
      receiver!
        .events()
        .find((e) => e.what === "offline" && (e.device as { id: string }).id === replica.deviceId),
    { timeoutMs: 120_000, intervalMs: 500, what: "the offline event" },
  );
  expect(offline).toMatchObject({
    share: fleet.share,
    why: expect.stringMatching(/^no contact for \d+ min/),
  });
  // The source keeps polling, so it is not reported.
  expect(receiver.events().filter((e) => (e.device as { id: string }).id === fleet!.source.deviceId)).toEqual(
    [],
  );
}, 180_000);
