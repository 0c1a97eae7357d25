// The Pi-hole kind against real Pi-hole FTL v6.4.1: a source scanned, its documents applied on two replicas.
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { SequencedEntry } from "../../../shared/protocol/entry.ts";
import {
  type FtlInstance,
  freePort,
  piholeUnavailable,
  queryDns,
  startFtl,
} from "../../../test/support/pihole.ts";
import type { AgentLogger } from "../../log/agent-logger.ts";
import type { ShareIndex, ShareKind } from "../share-kind.ts";
import { createPiholeKind } from "./create-pihole-kind.ts";
import { documentEntry } from "./document-entry.ts";
import { PIHOLE_USER_AGENT, withPiholeApi } from "./pihole-api.ts";
import { encodeDocument } from "./pihole-documents.ts";
import { PiholeShareSettingsSchema } from "./pihole-share-settings.ts";
import { readPiholeState } from "./read-pihole-state.ts";

const unavailable = piholeUnavailable();
if (unavailable) console.log(unavailable);

type LogLine = { level: string; message: string; fields?: Record<string, unknown> };
function collectingLogger(lines: LogLine[]): AgentLogger {
  const at = (level: string) => (message: string, fields?: Record<string, unknown>) =>
    lines.push({ level, message, fields });
  const logger: AgentLogger = {
    debug: at("debug"),
    info: at("info"),
    warn: at("warn"),
    error: at("error"),
    child: () => logger,
  };
  return logger;
}

async function passwordFile(dir: string, password: string): Promise<string> {
  const file = join(dir, "agent-password");
  await writeFile(file, `${password}\n`, { mode: 0o600 });
  return file;
}

type Node = { ftl: FtlInstance; kind: ShareKind; index: ShareIndex; log: LogLine[] };

async function makeNode(ftl: FtlInstance, extra: Record<string, unknown> = {}): Promise<Node> {
  const log: LogLine[] = [];
  const settings = {
    url: ftl.url,
    ...(ftl.password ? { passwordFile: await passwordFile(ftl.dir, ftl.password) } : {}),
    configDir: join(ftl.dir, "etc"),
    ...extra,
  };
  const kind = createPiholeKind(settings, {
    shareName: "dns",
    stateDir: join(ftl.dir, "agent-state"),
    log: collectingLogger(log),
  });
  return { ftl, kind, index: {}, log };
}

let seq = 0;
/** Scans the source and applies what changed on each replica, the source's readBlock standing in for the hub. */
async function sync(source: Node, replicas: Node[], options: { dryRun?: boolean } = {}) {
  const scan = await source.kind.scan({ dirty: new Set([""]), index: source.index });
  const ops: SequencedEntry[] = [];
  const where = new Map<string, { path: string; offset: number; length: number }>();
  for (const path of scan.changed) {
    const entry = scan.updates.get(path);
    if (entry) {
      source.index[path] = entry;
      entry.blocks.forEach((hash, i) => {
        where.set(hash, { path, offset: i * entry.blockSize, length: entry.blockSize });
      });
      ops.push({ ...entry, path, type: "file", seq: ++seq, target: undefined });
    } else {
      delete source.index[path];
      ops.push({
        path,
        type: "deleted",
        size: 0,
        mode: 0,
        mtimeMs: 0,
        blockSize: 131072,
        blocks: [],
        hash: "",
        seq: ++seq,
      });
    }
  }
  const results = [];
  for (const replica of replicas) {
    results.push(
      await replica.kind.apply({
        ops,
        index: replica.index,
        deletes: "propagate",
        localChange: "overwrite",
        dryRun: options.dryRun ?? false,
        signal: new AbortController().signal,
        fetchBlocks: async function* (hashes) {
          for (const hash of hashes) {
            const at = where.get(hash);
            if (at) yield { hash, bytes: await source.kind.readBlock(at) };
          }
        },
      }),
    );
  }
  return { changed: [...scan.changed].sort(), results };
}

const ITEMS = PiholeShareSettingsSchema.parse({});
async function stateOf(ftl: FtlInstance) {
  const credential = { password: ftl.password, shareName: "dns" };
  return (await withPiholeApi({ url: ftl.url, credential }, (api) => readPiholeState(api, ITEMS))).state;
}

async function agentSessions(ftl: FtlInstance): Promise<number> {
  const { sessions } = await ftl.call<{ sessions: Array<{ user_agent: string }> }>("GET", "/auth/sessions");
  return sessions.filter((s) => s.user_agent === PIHOLE_USER_AGENT).length;
}

async function lastGravity(ftl: FtlInstance): Promise<number> {
  const body = await ftl.call<{ gravity: { last_update: number } }>("GET", "/stats/summary");
  return body.gravity.last_update;
}

describe.skipIf(unavailable !== undefined)("the Pi-hole kind against real Pi-hole FTL", () => {
  let primary: FtlInstance;
  let replicaA: FtlInstance;
  let replicaB: FtlInstance;
  let source: Node;
  let replicas: Node[];

  beforeAll(async () => {
    // On tmpfs (see startFtl): FTL adds rows one transaction each, and this file adds tens of thousands of them.
    [primary, replicaA, replicaB] = await Promise.all([
      startFtl({ password: "primary-pw", memoryBacked: true }),
      startFtl({ password: "replica-a-pw", memoryBacked: true }),
      startFtl({ memoryBacked: true }), // a replica whose owner never set a password
    ]);
    // Replica A had groups of its own first, so its database ids differ from the primary's.
    await replicaA.call("POST", "/groups", {
      name: ["replica-own-1", "replica-own-2"],
      comment: null,
      enabled: true,
    });
    await replicaA.patchConfigRestarting({ dns: { upstreams: ["127.0.0.1#5353"] } });
    await writeFile(join(primary.dir, "etc", "ads.txt"), "ads.example\ntracker.example\n");
    await primary.call("POST", "/groups", { name: "kids", comment: "the children's devices", enabled: true });
    await primary.call("POST", "/groups", { name: "iot", comment: null, enabled: false });
    await primary.call("POST", "/lists?type=block", {
      address: "file:///etc/pihole/ads.txt",
      comment: "local list",
      groups: [0, 1],
      enabled: true,
    });
    await primary.call("POST", "/domains/deny/exact", {
      domain: "bad.example",
      comment: "nope",
      groups: [1, 2],
    });
    await primary.call("POST", "/domains/allow/exact", { domain: "good.example", comment: null });
    await primary.call("POST", "/domains/deny/regex", { domain: "(^|\\.)doubleclick\\.net$", comment: "rx" });
    await primary.call("POST", "/domains/allow/regex", { domain: "^allowed\\.", comment: null, groups: [2] });
    await primary.call("POST", "/clients", { client: "192.168.1.50", comment: "tablet", groups: [1] });
    await primary.patchConfigRestarting({
      dns: {
        hosts: ["192.168.1.10 nas.lan", "192.168.1.11 printer.lan"],
        cnameRecords: ["files.lan,nas.lan"],
      },
    });
    source = await makeNode(primary);
    replicas = [await makeNode(replicaA), await makeNode(replicaB)];
  }, 300_000);

  afterAll(async () => {
    if (process.env.KEEP_FTL) await Promise.all([primary, replicaA, replicaB].map((f) => f?.stop()));
    else await Promise.all([primary?.remove(), replicaA?.remove(), replicaB?.remove()]);
  });

  test("replicas end with every synced item of the source, groups mapped by name, host settings left alone", async () => {
    const gravityBefore = await Promise.all([replicaA, replicaB].map(lastGravity));
    const { changed, results } = await sync(source, replicas);
    expect(changed).toEqual([
      "clients.json",
      "dns-cnames.json",
      "dns-hosts.json",
      "domains.json",
      "groups.json",
      "lists.json",
    ]);
    for (const r of results) expect(r.filter((x) => !x.ok)).toEqual([]);
    const wanted = await stateOf(primary);
    expect(wanted.groups?.map((g) => g.name)).toEqual(["Default", "iot", "kids"]);
    expect(wanted.domains).toHaveLength(4);
    for (const ftl of [replicaA, replicaB]) expect(await stateOf(ftl)).toEqual(wanted);
    // The same group name has a different database id on replica A: mapped by name, not copied by id.
    const idsA = (await replicaA.call<{ groups: Array<{ name: string; id: number }> }>("GET", "/groups"))
      .groups;
    expect(idsA.find((g) => g.name === "kids")?.id).not.toBe(1);
    // Host-specific settings stay local.
    const upstreams = await replicaA.call<{ config: { dns: { upstreams: string[] } } }>(
      "GET",
      "/config/dns/upstreams",
    );
    expect(upstreams.config.dns.upstreams).toEqual(["127.0.0.1#5353"]);
    const port = await replicaB.call<{ config: { webserver: { port: string } } }>(
      "GET",
      "/config/webserver/port",
    );
    expect(port.config.webserver.port).toBe(`127.0.0.1:${replicaB.webPort}`);
    // The adlists changed, so gravity ran on each replica; the new local record answers.
    const gravityAfter = await Promise.all([replicaA, replicaB].map(lastGravity));
    expect(gravityAfter[0]).toBeGreaterThan(gravityBefore[0] as number);
    expect(gravityAfter[1]).toBeGreaterThan(gravityBefore[1] as number);
    expect(await queryDns(replicaB.dnsPort, "nas.lan")).toBe(1);
    // Before its first apply each replica saved a Teleporter export of itself.
    const backup = await readFile(
      join(replicaA.dir, "agent-state", "pihole-backups", "dns-before-first-sync.zip"),
    );
    expect(backup.subarray(0, 4)).toEqual(Buffer.from("PK\x03\x04", "latin1"));
  }, 120_000);

  test("gravity run by the first apply right after FTL's config restart is reloaded by FTL, so DNS queries leave its database open", async () => {
    // The first apply restarted each replica's FTL (a CNAME change) and then ran gravity. Had FTL not reloaded
    // gravity.db after that run, it would still read the replaced file, whose gravity table gravity dropped, and
    // the first DNS query would close its database ("Database not available" on every list read after it).
    for (const ftl of [replicaA, replicaB]) {
      expect(await queryDns(ftl.dnsPort, "nas.lan")).toBe(1);
      expect(await queryDns(ftl.dnsPort, "printer.lan")).toBe(1);
      // call() rides out a database that opens a moment late (10 s), not one that stays closed.
      const { groups } = await ftl.call<{ groups: unknown[] }>("GET", "/groups");
      expect(groups.length).toBeGreaterThan(0);
    }
  });

  test("a second apply of the same documents changes nothing, runs no gravity and restarts no FTL", async () => {
    const starts = await Promise.all([replicaA, replicaB].map((f) => f.startCount()));
    const gravity = await Promise.all([replicaA, replicaB].map(lastGravity));
    source.index = {}; // forget what was reported, so every document is offered again
    const { results } = await sync(source, replicas);
    for (const r of results) expect(r.filter((x) => !x.ok)).toEqual([]);
    for (const replica of replicas) {
      const planned = replica.log.filter((l) => l.message === "applying Pi-hole changes").at(-1);
      expect(planned?.fields).toEqual({ steps: 0, gravity: false });
    }
    expect(await Promise.all([replicaA, replicaB].map(lastGravity))).toEqual(gravity);
    expect(await Promise.all([replicaA, replicaB].map((f) => f.startCount()))).toEqual(starts);
  }, 120_000);

  test("a gravity run on the source that changes no list reports no change", async () => {
    await sync(source, replicas);
    await primary.runGravity();
    const scan = await source.kind.scan({ dirty: new Set([""]), index: source.index });
    expect([...scan.changed]).toEqual([]);
  }, 120_000);

  test("DNS keeps answering on a replica while a domain and a local record change, and no FTL restarts", async () => {
    const starts = await Promise.all([replicaA, replicaB].map((f) => f.startCount()));
    await primary.call("POST", "/domains/deny/exact", { domain: "new-bad.example", comment: null });
    await primary.call("PATCH", "/config", {
      config: { dns: { hosts: ["192.168.1.10 nas.lan", "192.168.1.11 printer.lan", "192.168.1.12 tv.lan"] } },
    });
    let probing = true;
    let answered = 0;
    const failures: string[] = [];
    const probe = (async () => {
      while (probing) {
        await queryDns(replicaA.dnsPort, "nas.lan", 1000).then(
          () => answered++,
          (error: Error) => failures.push(error.message),
        );
        await new Promise((ok) => setTimeout(ok, 20));
      }
    })();
    const { changed, results } = await sync(source, replicas);
    probing = false;
    await probe;
    expect(changed).toEqual(["dns-hosts.json", "domains.json"]);
    for (const r of results) expect(r.filter((x) => !x.ok)).toEqual([]);
    expect(failures).toEqual([]);
    expect(answered).toBeGreaterThan(0);
    expect(await queryDns(replicaA.dnsPort, "tv.lan")).toBe(1);
    expect(await Promise.all([replicaA, replicaB].map((f) => f.startCount()))).toEqual(starts);
    expect(await stateOf(replicaA)).toEqual(await stateOf(primary));
  }, 120_000);

  test("deletes on the source are deleted on the replicas, a CNAME change waits for FTL's own restart", async () => {
    await primary.call("POST", "/domains:batchDelete", [
      { item: "good.example", type: "allow", kind: "exact" },
    ]);
    await primary.call("POST", "/groups:batchDelete", [{ item: "iot" }]);
    await primary.call("POST", "/clients:batchDelete", [{ item: "192.168.1.50" }]);
    await primary.patchConfigRestarting({ dns: { cnameRecords: ["www.lan,nas.lan"] } });
    const starts = await replicaA.startCount();
    const { results } = await sync(source, replicas);
    for (const r of results) expect(r.filter((x) => !x.ok)).toEqual([]);
    const wanted = await stateOf(primary);
    expect(wanted.groups?.map((g) => g.name)).toEqual(["Default", "kids"]);
    expect(wanted.clients).toEqual([]);
    for (const ftl of [replicaA, replicaB]) expect(await stateOf(ftl)).toEqual(wanted);
    expect(await replicaA.startCount()).toBe(starts + 1);
  }, 120_000);

  test("a dry run logs the API calls it would make and changes nothing", async () => {
    await primary.call("POST", "/domains/deny/exact", { domain: "dry-run.example", comment: null });
    const before = await stateOf(replicaA);
    const { results } = await sync(source, [replicas[0] as Node], { dryRun: true });
    expect(results[0]?.every((x) => x.ok)).toBe(true);
    expect(await stateOf(replicaA)).toEqual(before);
    const calls = (replicas[0] as Node).log.filter(
      (l) => l.message === "dry run: would call the Pi-hole API",
    );
    expect(calls.at(-1)?.fields).toMatchObject({ method: "POST", path: "/api/domains/deny/exact" });
    source.index = {};
    await sync(source, replicas);
  }, 120_000);

  test("the watcher reports the Pi-hole dirty when FTL writes its directory", async () => {
    const dirty: string[] = [];
    const watcher = source.kind.watch((path) => dirty.push(path));
    await watcher.ready;
    try {
      await primary.call("POST", "/domains/deny/exact", { domain: "watched.example", comment: null });
      const deadline = Date.now() + 10_000;
      while (dirty.length === 0 && Date.now() < deadline) await new Promise((ok) => setTimeout(ok, 50));
      expect(dirty[0]).toBe("");
    } finally {
      await watcher.close();
    }
  });

  test("a document FTL refuses fails with FTL's reason and leaves the replica as it was", async () => {
    const bytes = encodeDocument("hosts", ["not-an-ip bad.lan"]);
    const entry = await documentEntry(bytes);
    const before = await stateOf(replicaA);
    const [result] = await (replicas[0] as Node).kind.apply({
      ops: [{ ...entry, path: "dns-hosts.json", type: "file", seq: ++seq, target: undefined }],
      index: {},
      deletes: "propagate",
      localChange: "overwrite",
      dryRun: false,
      signal: new AbortController().signal,
      fetchBlocks: async function* () {
        yield { hash: entry.blocks[0] as string, bytes };
      },
    });
    expect(result).toMatchObject({ path: "dns-hosts.json", ok: false });
    expect(result?.error).toBe(
      `Pi-hole at ${replicaA.url} refused PATCH /api/config: Config item validation failed (dns.hosts[0]: neither a valid IPv4 nor IPv6 address ("not-an-ip"))`,
    );
    expect(await stateOf(replicaA)).toEqual(before);
  });

  test("with every API seat held by other clients the apply fails saying so, and succeeds once a seat is free", async () => {
    const sids: string[] = [];
    for (let i = 0; i < 16; i++) {
      const r = await fetch(`${replicaA.url}/api/auth`, {
        method: "POST",
        headers: { "User-Agent": "another-sync-tool" },
        body: JSON.stringify({ password: "replica-a-pw" }),
      });
      const sid = ((await r.json()) as { session?: { sid?: string } }).session?.sid;
      if (sid) sids.push(sid);
    }
    expect(sids.length).toBeGreaterThan(0);
    await primary.call("POST", "/domains/deny/exact", { domain: "seats.example", comment: null });
    const { results } = await sync(source, [replicas[0] as Node]);
    expect(results[0]?.[0]?.error).toBe(
      `Pi-hole at ${replicaA.url} has no free API seat (all webserver.api.max_sessions are held by other clients); retrying later — log out other clients or raise webserver.api.max_sessions`,
    );
    for (const sid of sids) await fetch(`${replicaA.url}/api/auth`, { method: "DELETE", headers: { sid } });
    source.index = {};
    const again = await sync(source, [replicas[0] as Node]);
    expect(again.results[0]?.filter((x) => !x.ok)).toEqual([]);
    expect((await stateOf(replicaA)).domains).toEqual((await stateOf(primary)).domains);
  }, 60_000);

  test("10,000 domains reach a replica, and a replica SIGKILLed mid-apply converges after its restart", async () => {
    const names = Array.from({ length: 10_000 }, (_, i) => `host-${i}.bulk.example`);
    for (let i = 0; i < names.length; i += 2000)
      await primary.call("POST", "/domains/deny/exact", {
        domain: names.slice(i, i + 2000),
        comment: "bulk",
      });
    const applying = sync(source, [replicas[1] as Node]);
    setTimeout(() => void replicaB.stop("SIGKILL"), 300);
    const first = await applying;
    await replicaB.restart();
    expect(first.changed).toContain("domains.json");
    source.index = {};
    const second = await sync(source, [replicas[1] as Node]);
    expect(second.results[0]?.filter((x) => !x.ok)).toEqual([]);
    const wanted = await stateOf(primary);
    expect(wanted.domains?.length).toBeGreaterThan(10_000);
    expect(await stateOf(replicaB)).toEqual(wanted);
  }, 900_000);

  test("config keys named in the share reach the replica, dns.upstreams included only because it is named", async () => {
    // Only groups and config here: the rows were already synced above (replica A never got the bulk domains).
    const extra = { sync: ["groups"], config: ["dns.upstreams", "dns.queryLogging"] };
    const configSource = await makeNode(primary, extra);
    const configReplica = await makeNode(replicaA, extra);
    await primary.patchConfigRestarting({ dns: { upstreams: ["127.0.0.1#5335"], queryLogging: false } });
    const { changed, results } = await sync(configSource, [configReplica]);
    expect(changed).toEqual(["config.json", "groups.json"]);
    expect(results[0]?.filter((x) => !x.ok)).toEqual([]);
    const dns = await replicaA.call<{ config: { dns: { upstreams: string[]; queryLogging: boolean } } }>(
      "GET",
      "/config/dns",
    );
    expect(dns.config.dns.upstreams).toEqual(["127.0.0.1#5335"]);
    expect(dns.config.dns.queryLogging).toBe(false);
  }, 120_000);

  test("no Pi-hole holds a session of the agent after the syncs", async () => {
    for (const ftl of [primary, replicaA]) expect(await agentSessions(ftl)).toBe(0);
    // The password-less replica hands out no sessions at all.
    expect(await agentSessions(replicaB)).toBe(0);
  });

  test("the agent's stale sessions left by a crash are reaped at the next login", async () => {
    for (let i = 0; i < 3; i++)
      await fetch(`${primary.url}/api/auth`, {
        method: "POST",
        headers: { "User-Agent": PIHOLE_USER_AGENT },
        body: JSON.stringify({ password: "primary-pw" }),
      });
    expect(await agentSessions(primary)).toBe(3);
    expect(await source.kind.prepare({ isFirstRun: false, role: "source" })).toEqual({ ok: true });
    expect(await agentSessions(primary)).toBe(0);
  });

  test("a wrong password is refused with a message naming the Pi-hole and the password file", async () => {
    const file = await passwordFile(join(replicaA.dir, "etc"), "not-the-password");
    const kind = createPiholeKind(
      { url: replicaA.url, passwordFile: file, configDir: join(replicaA.dir, "etc") },
      { shareName: "dns", stateDir: replicaA.dir, log: collectingLogger([]) },
    );
    const result = await kind.prepare({ isFirstRun: true, role: "replica" });
    expect(result).toEqual({
      ok: false,
      reason: `share "dns": Pi-hole at ${replicaA.url} rejected the password in ${file}; put its web password or an app password there`,
    });
  });

  test("an unreachable Pi-hole is a precise failed operation, not a crash", async () => {
    const port = await freePort();
    const kind = createPiholeKind(
      { url: `http://127.0.0.1:${port}`, password: "x" },
      { shareName: "dns", stateDir: replicaA.dir, log: collectingLogger([]) },
    );
    const prepared = await kind.prepare({ isFirstRun: true, role: "replica" });
    expect(prepared.ok).toBe(false);
    expect(prepared.ok ? "" : prepared.reason).toBe(
      `share "dns": Pi-hole at http://127.0.0.1:${port} is not answering POST /api/auth (ECONNREFUSED); is pihole-FTL running? retrying later`,
    );
  });
});
