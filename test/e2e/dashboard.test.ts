// The dashboard in real Chromium against a real hub with real source and replica agents: log in, see a share and
// its members, watch a change arrive without a reload, approve a pending device and see it sync, revoke one.
// Screenshots of every page land in test-artifacts/ for a person to look at.
import { join } from "node:path";
import { afterEach, expect, test } from "vitest";
import { enrollDevice } from "../../agent/enroll-device.ts";
import packageJson from "../../package.json" with { type: "json" };
import { hasChromium, launchBrowser, type TestBrowser } from "../support/browser.ts";
import {
  adminCall,
  type Fleet,
  makeTempDir,
  startAgent,
  startFleet,
  treesEqual,
  updateAgentConfig,
  waitFor,
  writeFiles,
} from "../support/fleet.ts";

const mustRun = hasChromium || process.env.CI === "true";
if (!mustRun) console.warn("dashboard e2e skipped: /usr/bin/chromium is absent (apt-get install chromium)");

let fleet: Fleet | undefined;
let browser: TestBrowser | undefined;
const extraAgents: { stop: () => Promise<unknown> }[] = [];
afterEach(async () => {
  await browser?.close();
  await Promise.all(extraAgents.splice(0).map((a) => a.stop()));
  await fleet?.stop().catch(() => {});
  browser = undefined;
  fleet = undefined;
});

/** Enrolls a replica with a token that holds it for approval, and starts its agent. */
async function enrollPendingReplica(f: Fleet) {
  const root = join(await makeTempDir("fleetsync-pending-"), "replica");
  const stateDir = await makeTempDir("fleetsync-pending-state-");
  const { token } = (await adminCall(f.hub, "POST", "/v1/admin/tokens", {
    shares: [{ name: f.share, role: "replica" }],
    approval: true,
  })) as { token: string };
  const enrolled = await enrollDevice({
    hub: f.hub.url,
    token,
    stateDir,
    name: "pi-new",
    paths: { [f.share]: root },
  });
  await updateAgentConfig(stateDir, (config) => {
    config.defaults = { debounceMs: 100 };
    config.log = { level: "debug", destination: "stdout" };
  });
  const agent = startAgent(stateDir);
  extraAgents.push(agent);
  return { root, deviceId: (enrolled as { deviceId: string }).deviceId, agent };
}

test.skipIf(!mustRun)(
  "a person logs in, watches a change arrive live, approves a pending device that then syncs, and revokes a device",
  async () => {
    fleet = await startFleet({ replicas: 1 });
    await writeFiles(fleet.sourceRoot, { "hello.txt": "hello\n" });
    const replica = fleet.replicas[0]!;
    await waitFor(() => treesEqual(fleet!.sourceRoot, replica.root), {
      timeoutMs: 30_000,
      what: "first sync",
    });

    browser = await launchBrowser();
    const { page } = browser;
    const shots: string[] = [];

    // Not logged in: the hub sends the person to the login form.
    await page.goto(fleet.hub.url);
    expect(new URL(page.url()).pathname).toBe("/login");
    shots.push(await browser.screenshot("dashboard-login"));
    await page.fill('input[name="token"]', "fsa_not-the-token");
    await page.click('button:has-text("Log in")');
    await expect
      .poll(() => page.textContent(".banner.bad"))
      .toContain("admin token is not valid for this hub");
    await page.fill('input[name="token"]', fleet.hub.adminToken);
    await page.click('button:has-text("Log in")');
    await page.waitForURL(`${fleet.hub.url}/`);
    const cookies = await browser.context.cookies();
    expect(cookies.find((c) => c.name === "fleetsync_session")).toMatchObject({
      httpOnly: true,
      sameSite: "Strict",
    });

    // The fleet: the share and both devices.
    await page.waitForSelector('tr[data-share="docs"]');
    await page.waitForSelector(`tr[data-device="${replica.deviceId}"]`);
    await page.waitForSelector(`tr[data-device="${fleet.source.deviceId}"]`);
    // Each device row says which agent version it runs (from the agent's User-Agent).
    await expect
      .poll(() => page.textContent(`tr[data-device="${replica.deviceId}"]`))
      .toContain(packageJson.version);
    await expect.poll(() => page.textContent("#live")).toContain("live");
    shots.push(await browser.screenshot("dashboard-fleet"));

    // The share and its members; then a change on the source shows up without a reload.
    await page.click('a[href="/shares/docs"]');
    await page.waitForSelector(`tr[data-member="${replica.deviceId}"]`);
    await page.waitForSelector(`tr[data-member="${fleet.source.deviceId}"]`);
    await expect.poll(() => page.textContent("#live")).toContain("live");
    await page.evaluate(() => {
      (window as unknown as { notReloaded: boolean }).notReloaded = true;
    });
    await writeFiles(fleet.sourceRoot, { "live-change.txt": "arrives while you watch\n" });
    await page.waitForSelector('tr[data-path="live-change.txt"]', { timeout: 30_000 });
    expect(await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded)).toBe(
      true,
    );
    await expect
      .poll(() => page.textContent(`tr[data-member="${replica.deviceId}"] [data-cursor]`), {
        timeout: 30_000,
      })
      .toBe(await page.textContent("[data-head]"));
    shots.push(await browser.screenshot("dashboard-share"));

    // A device enrolled with an approval token waits on the pending page; approving it lets it sync.
    const pending = await enrollPendingReplica(fleet);
    await page.click('a[href="/pending"]');
    await page.waitForSelector(`tr[data-device="${pending.deviceId}"]`);
    await waitFor(() => /waiting for approval: fleetsync device approve/.test(pending.agent.output()), {
      timeoutMs: 30_000,
      what: "the pending agent to be told it waits for approval",
    });
    expect(await treesEqual(fleet.sourceRoot, pending.root).catch(() => false)).toBe(false);
    shots.push(await browser.screenshot("dashboard-pending"));
    await page.click(`tr[data-device="${pending.deviceId}"] button:has-text("Approve")`);
    await expect.poll(() => page.textContent(".banner")).toContain(`device ${pending.deviceId} approved`);
    await waitFor(() => treesEqual(fleet!.sourceRoot, pending.root).catch(() => false), {
      timeoutMs: 60_000,
      what: "the approved device to sync",
    });

    // The tokens page mints a token and shows the exact enroll command.
    await page.click('a[href="/tokens"]');
    await page.selectOption('select[name="role"]', "replica");
    await page.fill('input[name="label"]', "pi-garage");
    await page.click('button:has-text("Mint token")');
    await expect
      .poll(() => page.textContent("#enroll-command"))
      .toMatch(
        new RegExp(
          `^npx fleetsync agent enroll --hub ${fleet.hub.url} --token \\S+ --state ./fleetsync-agent --path docs=/path/to/docs$`,
        ),
      );
    shots.push(await browser.screenshot("dashboard-tokens"));

    // Revoking the first replica on its device page locks it out: the next change reaches only the other one.
    await page.goto(`${fleet.hub.url}/devices/${replica.deviceId}`);
    await page.click('button:has-text("Revoke")');
    await expect.poll(() => page.textContent(".banner")).toContain(`device ${replica.deviceId} revoked`);
    await expect.poll(() => page.textContent("h1")).toContain("revoked");
    shots.push(await browser.screenshot("dashboard-device"));
    await writeFiles(fleet.sourceRoot, { "after-revoke.txt": "only for devices still trusted\n" });
    await waitFor(() => treesEqual(fleet!.sourceRoot, pending.root), {
      timeoutMs: 30_000,
      what: "the approved replica",
    });
    expect(await treesEqual(fleet.sourceRoot, replica.root)).toBe(false);

    // On a phone the fleet page fits the screen width (wide tables scroll inside their own box).
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(fleet.hub.url);
    await page.waitForSelector('tr[data-share="docs"]');
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    shots.push(await browser.screenshot("dashboard-fleet-phone"));

    // Logging out ends the session: the fleet page sends the person back to the login form.
    await page.click('button:has-text("Log out")');
    await page.waitForURL(/\/login/);
    await page.goto(fleet.hub.url);
    expect(new URL(page.url()).pathname).toBe("/login");

    console.log(`dashboard screenshots:\n  ${shots.join("\n  ")}`);
  },
  240_000,
);
