// Pi-hole shares end to end: a real hub and real agent processes in front of real Pi-hole FTL instances.
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { PIHOLE_USER_AGENT, withPiholeApi } from "../../agent/kinds/pihole/pihole-api.ts";
import { PiholeShareSettingsSchema } from "../../agent/kinds/pihole/pihole-share-settings.ts";
import { readPiholeState } from "../../agent/kinds/pihole/read-pihole-state.ts";
import {
  adminCall,
  enrollAgent,
  makeTempDir,
  type RunningProcess,
  startAgent,
  startHubProcess,
  type TestHub,
  updateAgentConfig,
  waitFor,
} from "../support/fleet.ts";
import { type FtlInstance, piholeUnavailable, startFtl } from "../support/pihole.ts";

const unavailable = piholeUnavailable();
if (unavailable) console.log(unavailable);

const ITEMS = PiholeShareSettingsSchema.parse({});
/**
 * What a Pi-hole holds of the synced items. The test reads with the agent's own client, so an agent logging in
 * meanwhile reaps the test's session as one of its own stale ones: read again then.
 */
async function stateOf(ftl: FtlInstance) {
  const credential = { password: ftl.password, shareName: "dns" };
  for (let attempt = 1; ; attempt++) {
    try {
      return JSON.stringify(
        (
          await withPiholeApi({ url: ftl.url, credential, userAgent: "fleetsync-e2e-test" }, (api) =>
            readPiholeState(api, ITEMS),
          )
        ).state,
      );
    } catch (error) {
      if (attempt >= 5 || !/ended this agent's session/.test((error as Error).message)) throw error;
    }
  }
}

/** Enrolls an agent for share "dns" and turns its share into a Pi-hole share in front of `ftl`. */
async function piholeAgent(hub: TestHub, role: "source" | "replica", ftl: FtlInstance) {
  const placeholder = await makeTempDir("fleetsync-pihole-root-");
  const { stateDir } = await enrollAgent(hub, "dns", role, placeholder, { debounceMs: 100 });
  const passwordFile = join(stateDir, "pihole-password");
  await writeFile(passwordFile, `${ftl.password}\n`, { mode: 0o600 });
  await updateAgentConfig(stateDir, (config) => {
    config.shares.dns = {
      kind: "pihole",
      role,
      pihole: { url: ftl.url, passwordFile, configDir: join(ftl.dir, "etc"), pollMinutes: 0.1 },
    };
  });
  return { stateDir, agent: startAgent(stateDir) };
}

describe.skipIf(unavailable !== undefined)("Pi-hole replication through a real hub and agents", () => {
  let hub: TestHub;
  let ftls: FtlInstance[] = [];
  const agents: RunningProcess[] = [];

  beforeAll(async () => {
    hub = await startHubProcess();
    await adminCall(hub, "POST", "/v1/admin/shares", { name: "dns", kind: "pihole" });
    ftls = await Promise.all([
      startFtl({ password: "primary-pw" }),
      startFtl({ password: "replica-1-pw" }),
      startFtl({ password: "replica-2-pw" }),
    ]);
    const [primary, ...replicas] = ftls as [FtlInstance, ...FtlInstance[]];
    agents.push((await piholeAgent(hub, "source", primary)).agent);
    for (const replica of replicas) agents.push((await piholeAgent(hub, "replica", replica)).agent);
  }, 180_000);

  afterAll(async () => {
    await Promise.all(agents.map((a) => a.stop()));
    await hub?.stop();
    await Promise.all(ftls.map((f) => f.remove()));
  });

  test("a group, a domain and a local DNS record added on the primary reach both replicas, with no session left behind", async () => {
    const [primary, ...replicas] = ftls as [FtlInstance, ...FtlInstance[]];
    await primary.call("POST", "/groups", { name: "kids", comment: null, enabled: true });
    await primary.call("POST", "/domains/deny/exact", { domain: "bad.example", comment: "e2e", groups: [1] });
    await primary.call("PATCH", "/config", { config: { dns: { hosts: ["192.168.1.10 nas.lan"] } } });
    const wanted = await stateOf(primary);
    for (const replica of replicas)
      await waitFor(async () => (await stateOf(replica)) === wanted, {
        timeoutMs: 60_000,
        intervalMs: 500,
        what: `replica ${replica.url} to match the primary`,
      });
    for (const ftl of ftls) {
      const { sessions } = await ftl.call<{ sessions: Array<{ user_agent: string }> }>(
        "GET",
        "/auth/sessions",
      );
      expect(sessions.filter((s) => s.user_agent === PIHOLE_USER_AGENT).length).toBeLessThanOrEqual(1);
    }
  }, 120_000);

  test("an adlist added on the primary runs gravity on each replica, recorded in the op log and share show", async () => {
    const [primary, ...replicas] = ftls as [FtlInstance, ...FtlInstance[]];
    for (const ftl of ftls) await writeFile(join(ftl.dir, "etc", "ads.txt"), "ads.example\n");
    await primary.call("POST", "/lists?type=block", {
      address: "file:///etc/pihole/ads.txt",
      comment: "e2e list",
      groups: [0],
      enabled: true,
    });
    const wanted = await stateOf(primary);
    for (const replica of replicas)
      await waitFor(async () => (await stateOf(replica)) === wanted, {
        timeoutMs: 120_000,
        intervalMs: 500,
        what: `replica ${replica.url} to have the new adlist`,
      });
    const shown = await waitFor(
      async () => {
        const answer = (await adminCall(hub, "GET", "/v1/admin/shares/dns")) as {
          members: { role: string; lastGravityAt: string | null }[];
        };
        const replicaMembers = answer.members.filter((m) => m.role === "replica");
        return replicaMembers.every((m) => m.lastGravityAt !== null) ? replicaMembers : undefined;
      },
      { timeoutMs: 150_000, what: "a gravity run recorded for both replicas" },
    ).catch((error) => {
      // What the first replica agent did, to see why no gravity run was recorded.
      console.log(agents[1]!.output().split("\n").slice(-40).join("\n"));
      throw error;
    });
    expect(shown).toHaveLength(2);
  }, 240_000);
});
