// The bench's Syncthing config binds only 127.0.0.1 and turns off everything that would dial out; real Syncthing reads it so.
import { mkdir, mkdtemp, readdir, readFile, readlink, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { type CountingRelay, startCountingRelay } from "./counting-relay.ts";
import { findSyncthing } from "./peers.ts";
import { syncthingConfigXml } from "./syncthing-config.ts";
import { prepareSyncthingPair, type SyncthingPair } from "./syncthing-pair.ts";

const SELF = {
  id: "AAAAAAA-AAAAAAA-AAAAAAA-AAAAAAA-AAAAAAA-AAAAAAA-AAAAAAA-AAAAAAA",
  name: "src",
  listenPort: 22001,
};
const PEER = {
  id: "BBBBBBB-BBBBBBB-BBBBBBB-BBBBBBB-BBBBBBB-BBBBBBB-BBBBBBB-BBBBBBB",
  name: "dst",
  listenPort: 22002,
};

function config(path = "/data/share") {
  return syncthingConfigXml({
    self: SELF,
    peer: PEER,
    guiPort: 8385,
    apiKey: "key-123",
    folder: { id: "bench", path, type: "sendonly", watcherDelayS: 1 },
  });
}

const values = (xml: string, name: string) =>
  [...xml.matchAll(new RegExp(`<${name}>([^<]*)</${name}>`, "g"))].map((m) => m[1]);

describe("syncthingConfigXml", () => {
  test("listens, serves its REST API and dials its peer on 127.0.0.1 only", () => {
    const xml = config();
    expect(values(xml, "listenAddress")).toEqual(["tcp://127.0.0.1:22001"]);
    expect(values(xml, "address")).toEqual([
      "tcp://127.0.0.1:22001",
      "tcp://127.0.0.1:22002",
      "127.0.0.1:8385",
    ]);
    expect(values(xml, "apikey")).toEqual(["key-123"]);
    expect(xml).not.toContain("dynamic");
    // "default" would mean Syncthing's public discovery and STUN servers.
    for (const name of ["listenAddress", "globalAnnounceServer", "stunServer"])
      expect(values(xml, name), name).not.toContain("default");
  });

  test("turns off discovery, relays, NAT, STUN, usage and crash reporting and upgrades", () => {
    const xml = config();
    for (const flag of [
      "globalAnnounceEnabled",
      "localAnnounceEnabled",
      "relaysEnabled",
      "natEnabled",
      "crashReportingEnabled",
      "announceLANAddresses",
      "startBrowser",
    ])
      expect(values(xml, flag), flag).toEqual(["false"]);
    expect(values(xml, "urAccepted")).toEqual(["-1"]);
    expect(values(xml, "stunKeepaliveStartS")).toEqual(["0"]);
    expect(values(xml, "autoUpgradeIntervalH")).toEqual(["0"]);
  });

  test("names no host but 127.0.0.1 anywhere", () => {
    const hosts = [
      ...config().matchAll(/(?:[a-z]+:\/\/)?([a-z0-9.-]+\.[a-z0-9-]+|\[[0-9a-f:]+\]):\d+/gi),
    ].map((m) => m[1]);
    expect(hosts.length).toBeGreaterThan(5);
    expect(new Set(hosts)).toEqual(new Set(["127.0.0.1"]));
  });

  test("dials a device at its dial port (a relay in front of it) and still listens on its own port", () => {
    const xml = syncthingConfigXml({
      self: SELF,
      peer: { ...PEER, dialPort: 23002 },
      guiPort: 8385,
      apiKey: "key-123",
      folder: { id: "bench", path: "/data/share", type: "sendonly", watcherDelayS: 1 },
    });
    expect(values(xml, "listenAddress")).toEqual(["tcp://127.0.0.1:22001"]);
    expect(values(xml, "address")).toEqual([
      "tcp://127.0.0.1:22001",
      "tcp://127.0.0.1:23002",
      "127.0.0.1:8385",
    ]);
  });

  test("shares one folder with both devices, watcher delay 1 s, and escapes what it writes", () => {
    const xml = config('/data/a "b" & <c>');
    expect(xml).toContain('path="/data/a &quot;b&quot; &amp; &lt;c&gt;"');
    expect(xml).toMatch(/<folder id="bench"[^>]* type="sendonly"[^>]* fsWatcherDelayS="1"/);
    expect(xml.match(/<device id="[A-Z-]+" introducedBy=""><\/device>/g)).toHaveLength(2);
  });
});

const syncthing = findSyncthing();
let pair: SyncthingPair | undefined;
let base: string | undefined;
const relays: CountingRelay[] = [];
afterEach(async () => {
  await pair?.stop();
  pair = undefined;
  await Promise.all(relays.splice(0).map((r) => r.close()));
  if (base) await rm(base, { recursive: true, force: true });
});

/** Local and remote addresses of the TCP and UDP sockets a process holds (from /proc, hex as the kernel gives them). */
async function socketsOf(pid: number): Promise<string[]> {
  const inodes = new Set<string>();
  for (const fd of await readdir(`/proc/${pid}/fd`).catch(() => [] as string[])) {
    const link = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => "");
    const inode = /^socket:\[(\d+)\]$/.exec(link)?.[1];
    if (inode) inodes.add(inode);
  }
  const found: string[] = [];
  for (const table of ["tcp", "tcp6", "udp", "udp6"]) {
    const lines = (await readFile(`/proc/${pid}/net/${table}`, "utf8").catch(() => "")).split("\n").slice(1);
    for (const line of lines) {
      const f = line.trim().split(/\s+/);
      if (f[9] && inodes.has(f[9])) found.push(`${table} ${f[1]} ${f[2]}`);
    }
  }
  return found;
}

/** 127.0.0.1 as /proc/net/tcp writes it (little-endian hex), and 0.0.0.0 for a connection's unset remote end. */
const LOOPBACK = "0100007F";

describe.skipIf(!syncthing.available)("real Syncthing with the bench config", () => {
  test("reads it as written and holds no socket but on 127.0.0.1", { timeout: 60_000 }, async () => {
    if (!syncthing.available) return;
    base = await mkdtemp(join(tmpdir(), "fleetsync-syncthing-config-"));
    await mkdir(join(base, "a"));
    await mkdir(join(base, "b"));
    pair = await prepareSyncthingPair({
      binary: syncthing.path,
      base,
      sourceRoot: join(base, "a"),
      receiverRoot: join(base, "b"),
      watcherDelayS: 1,
    });
    const receiver = await pair.start("receiver");
    const source = await pair.start("source");
    await pair.waitSettled(45_000);

    const read = await pair.rest<{
      options: Record<string, unknown>;
      folders: { type: string; fsWatcherDelayS: number }[];
    }>("source", "/rest/config");
    expect(read.options.listenAddresses).toEqual([`tcp://127.0.0.1:${pair.source.device.listenPort}`]);
    expect(read.options).toMatchObject({
      globalAnnounceEnabled: false,
      localAnnounceEnabled: false,
      relaysEnabled: false,
      natEnabled: false,
      urAccepted: -1,
      crashReportingEnabled: false,
    });
    expect(read.folders.map((f) => [f.type, f.fsWatcherDelayS])).toEqual([["sendonly", 1]]);

    const sockets = [...(await socketsOf(source.worker)), ...(await socketsOf(receiver.worker))];
    expect(sockets.length).toBeGreaterThan(2);
    const elsewhere = sockets.filter((s) => {
      const [, local, remote] = s.split(" ");
      return !local!.startsWith(LOOPBACK) || !/^(0100007F|00000000):/.test(remote!);
    });
    expect(elsewhere).toEqual([]);
  });
});

/** The remote ports of a process's TCP connections (decimal). */
async function remotePortsOf(pid: number): Promise<number[]> {
  return (await socketsOf(pid))
    .filter((s) => s.startsWith("tcp"))
    .map((s) => Number.parseInt(s.split(" ")[2]?.split(":")[1] ?? "0", 16))
    .filter((port) => port !== 0);
}

describe.skipIf(!syncthing.available)("real Syncthing pair behind counting relays", () => {
  test("each instance reaches the other only through the relay in front of it", {
    timeout: 60_000,
  }, async () => {
    if (!syncthing.available) return;
    base = await mkdtemp(join(tmpdir(), "fleetsync-syncthing-relay-"));
    await mkdir(join(base, "a"));
    await mkdir(join(base, "b"));
    pair = await prepareSyncthingPair({
      binary: syncthing.path,
      base,
      sourceRoot: join(base, "a"),
      receiverRoot: join(base, "b"),
      watcherDelayS: 1,
      dialPortFor: async (_which, listenPort) => {
        const relay = await startCountingRelay(`http://127.0.0.1:${listenPort}`);
        relays.push(relay);
        return relay.port;
      },
    });
    const receiver = await pair.start("receiver");
    const source = await pair.start("source");
    await pair.waitSettled(45_000);

    // The BEP connection (TLS handshake, cluster config) went through the relays...
    expect(relays.reduce((sum, r) => sum + r.up + r.down, 0)).toBeGreaterThan(1000);
    // ...and neither instance holds a connection to the other's own listen port.
    expect(await remotePortsOf(source.worker)).not.toContain(pair.receiver.device.listenPort);
    expect(await remotePortsOf(receiver.worker)).not.toContain(pair.source.device.listenPort);
  });
});
