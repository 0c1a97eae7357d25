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
  runCli,
  runCliCaptured,
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
async function piholeAgent(
  hub: TestHub,
  role: "source" | "replica",
  ftl: FtlInstance,
  password = ftl.password,
) {
  const placeholder = await makeTempDir("fleetsync-pihole-root-");
  const { stateDir, deviceId } = await enrollAgent(hub, "dns", role, placeholder, { debounceMs: 100 });
  const passwordFile = join(stateDir, "pihole-password");
  await writeFile(passwordFile, `${password}\n`, { mode: 0o600 });
  await updateAgentConfig(stateDir, (config) => {
    config.shares.dns = {
      kind: "pihole",
      role,
      pihole: { url: ftl.url, passwordFile, configDir: join(ftl.dir, "etc"), pollMinutes: 0.1 },
    };
  });
  return { stateDir, deviceId, passwordFile, agent: startAgent(stateDir) };
}

describe.skipIf(unavailable !== undefined)("Pi-hole replication through a real hub and agents", () => {
  let hub: TestHub;
  let ftls: FtlInstance[] = [];
  const agents: RunningProcess[] = [];
  /** A third replica whose agent has the wrong password: it must fail visibly and hold up nobody. */
  let misconfigured:
    | { ftl: FtlInstance; stateDir: string; deviceId: string; passwordFile: string }
    | undefined;

  beforeAll(async () => {
    hub = await startHubProcess();
    // The items as `share create` sets them: all of them (the default), and one config key on top.
    const created = await runCli([
      "share",
      "create",
      "dns",
      "--kind",
      "pihole",
      "--pihole-config",
      "dns.queryLogging",
      "--data",
      hub.dataDir,
    ]);
    expect(created).toMatchObject({ code: 0 });
    expect(created.output).toContain(
      "syncs groups, lists, domains, clients, dns.hosts, dns.cnameRecords; config keys dns.queryLogging",
    );
    ftls = await Promise.all([
      startFtl({ password: "primary-pw" }),
      startFtl({ password: "replica-1-pw" }),
      startFtl({ password: "replica-2-pw" }),
    ]);
    const [primary, ...replicas] = ftls as [FtlInstance, ...FtlInstance[]];
    agents.push((await piholeAgent(hub, "source", primary)).agent);
    for (const replica of replicas) agents.push((await piholeAgent(hub, "replica", replica)).agent);
    const ftl = await startFtl({ password: "replica-3-pw" });
    const wrong = await piholeAgent(hub, "replica", ftl, "not-the-password");
    agents.push(wrong.agent);
    misconfigured = {
      ftl,
      stateDir: wrong.stateDir,
      deviceId: wrong.deviceId,
      passwordFile: wrong.passwordFile,
    };
  }, 180_000);

  afterAll(async () => {
    await Promise.all(agents.map((a) => a.stop()));
    await hub?.stop();
    await Promise.all([...ftls, ...(misconfigured ? [misconfigured.ftl] : [])].map((f) => f.remove()));
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

  test("a replica with the wrong password says so in its log, agent status and share show, and holds up nobody", async () => {
    const { stateDir, passwordFile, ftl } = misconfigured!;
    const reason = `share "dns": Pi-hole at ${ftl.url} rejected the password in ${passwordFile}; put its web password or an app password there`;
    const shown = await waitFor(
      async () => {
        const answer = (await adminCall(hub, "GET", "/v1/admin/shares/dns")) as {
          members: { deviceId: string; lastError: string | null }[];
        };
        return answer.members.find((m) => m.deviceId === misconfigured!.deviceId && m.lastError !== null);
      },
      { timeoutMs: 60_000, what: "the misconfigured replica's error in share show" },
    );
    expect(shown.lastError).toBe(reason);
    const status = await runCliCaptured(["agent", "status", "--state", stateDir]);
    expect(status.stdout).toContain(reason);
    // The agent's log line (JSON under the test, so its quotes are escaped).
    expect(agents.at(-1)!.output()).toContain(`"level":"error","msg":${JSON.stringify(reason)}`);
    // Only the misconfigured member has an error: the two good replicas synced in the test before.
    const answer = (await adminCall(hub, "GET", "/v1/admin/shares/dns")) as {
      members: { lastError: string | null }[];
    };
    expect(answer.members.filter((m) => m.lastError !== null)).toHaveLength(1);
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
          members: { deviceId: string; role: string; lastGravityAt: string | null }[];
        };
        const replicaMembers = answer.members.filter(
          (m) => m.role === "replica" && m.deviceId !== misconfigured!.deviceId,
        );
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

  test("share set changes what every member syncs: a dropped item stays local, a named config key arrives", async () => {
    const [primary, ...replicas] = ftls as [FtlInstance, ...FtlInstance[]];
    const set = await runCli([
      "share",
      "set",
      "dns",
      "--pihole-sync",
      "groups,lists,domains",
      "--data",
      hub.dataDir,
    ]);
    expect(set.output).toContain(
      'share "dns" now syncs groups, lists, domains; config keys dns.queryLogging',
    );
    expect(set.code).toBe(0);
    // Clients are no longer synced; a domain and the named config key still are.
    await primary.call("POST", "/clients", { client: "192.168.1.77", comment: "not synced any more" });
    await primary.patchConfigRestarting({ dns: { queryLogging: false } });
    await primary.call("POST", "/domains/deny/exact", { domain: "after-set.example", comment: null });
    for (const replica of replicas) {
      await waitFor(
        async () => {
          const { domains } = await replica.call<{ domains: { domain: string }[] }>("GET", "/domains");
          const { config } = await replica.call<{ config: { dns: { queryLogging: boolean } } }>(
            "GET",
            "/config/dns/queryLogging",
          );
          return domains.some((d) => d.domain === "after-set.example") && config.dns.queryLogging === false;
        },
        {
          timeoutMs: 90_000,
          intervalMs: 500,
          what: `replica ${replica.url} to get the domain and queryLogging`,
        },
      );
      const { clients } = await replica.call<{ clients: { client: string }[] }>("GET", "/clients");
      expect(clients.map((c) => c.client)).not.toContain("192.168.1.77");
    }
    const shown = (await adminCall(hub, "GET", "/v1/admin/shares/dns")) as { pihole: unknown };
    expect(shown.pihole).toEqual({ sync: ["groups", "lists", "domains"], config: ["dns.queryLogging"] });
  }, 180_000);
});
