// Attacks between hub and replica: tampered, replayed and forged instructions, and bad blocks, are refused; nothing is written.
import { createHash } from "node:crypto";
import { lstat, readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { encodeBlockFrames } from "../../shared/blocks/block-frames.ts";
import { signInstruction } from "../../shared/instructions/instruction.ts";
import {
  type Fleet,
  setAgentHub,
  snapshotTree,
  startAgent,
  startFleet,
  waitFor,
  waitForConvergence,
  writeFiles,
} from "../support/fleet.ts";
import { readHubSigningKey } from "../support/hub-secrets.ts";
import { startTamperProxy, type TamperProxy } from "../support/tamper-proxy.ts";

let fleet: Fleet | undefined;
let proxy: TamperProxy | undefined;
afterEach(async () => {
  await proxy?.close();
  await fleet?.stop();
  fleet = undefined;
  proxy = undefined;
});

/** A fleet whose single replica talks to the hub through a tampering proxy. */
async function fleetBehindProxy() {
  fleet = await startFleet({ replicas: 1 });
  proxy = await startTamperProxy(fleet.hub.url);
  const replica = fleet.replicas[0]!;
  await replica.agent.stop();
  await setAgentHub(replica.stateDir, proxy.url);
  replica.agent = startAgent(replica.stateDir);
  return { fleet, proxy, replica };
}

function decodePayload(jws: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jws.split(".")[1]!, "base64url").toString("utf8"));
}

function encodePayload(jws: string, payload: Record<string, unknown>): string {
  const [header, , signature] = jws.split(".");
  return `${header}.${Buffer.from(JSON.stringify(payload)).toString("base64url")}.${signature}`;
}

describe("instruction and block integrity", () => {
  test("a tampered instruction is refused and nothing is written", async () => {
    const { fleet, proxy, replica } = await fleetBehindProxy();
    proxy.rules.instructions = (list) =>
      list.map((jws) => {
        const payload = decodePayload(jws);
        for (const op of payload.ops as { path: string }[]) op.path = `evil-${op.path}`;
        return encodePayload(jws, payload);
      });
    await writeFiles(fleet.sourceRoot, { "real.txt": "real\n" });
    await waitFor(
      () => replica.agent.output().includes("refused an instruction: instruction signature does not verify"),
      {
        what: "the refusal",
      },
    );
    const tree = await snapshotTree(replica.root);
    expect(Object.keys(tree)).toEqual([]);

    proxy.rules.instructions = undefined;
    await waitForConvergence(fleet);
  });

  test("a replayed instruction is refused and does not roll the replica back", async () => {
    const { fleet, proxy, replica } = await fleetBehindProxy();
    await writeFiles(fleet.sourceRoot, { "a.txt": "version 1\n" });
    await waitForConvergence(fleet);
    const old = proxy.seenInstructions.at(-1)!;
    expect(decodePayload(old).fromSeq).toBe(0);

    await writeFiles(fleet.sourceRoot, { "a.txt": "version 2\n" });
    await waitForConvergence(fleet);
    proxy.rules.instructions = () => [old];
    await writeFiles(fleet.sourceRoot, { "wake.txt": "a new change ends the replica's long-poll\n" });
    await waitFor(() => /refused instruction .*replay/.test(replica.agent.output()), {
      what: "the replay refusal",
    });
    expect(await readFile(join(replica.root, "a.txt"), "utf8")).toBe("version 2\n");
  });

  test.each([
    ["../escape.txt", "climbs out of the share"],
    ["/tmp/fleetsync-absolute-escape.txt", "is absolute"],
  ])("an instruction signed by the hub key with the path %s is refused (%s)", async (badPath) => {
    const { fleet, proxy, replica } = await fleetBehindProxy();
    await writeFiles(fleet.sourceRoot, { "ok.txt": "ok\n" });
    await waitForConvergence(fleet);
    const cursor = decodePayload(proxy.seenInstructions.at(-1)!).toSeq as number;
    const { kid, hubId, privateKey } = await readHubSigningKey(fleet.hub.dataDir);
    const content = Buffer.from("pwned\n");
    const hash = createHash("sha256").update(content).digest("hex");
    const forged = await signInstruction(
      privateKey,
      kid,
      {
        hubId,
        deviceId: replica.deviceId,
        instructionId: crypto.randomUUID(),
        nowSeconds: Math.floor(Date.now() / 1000),
      },
      {
        share: fleet.share,
        fromSeq: cursor,
        toSeq: cursor + 1,
        ops: [
          {
            seq: cursor + 1,
            path: badPath,
            type: "file",
            size: content.length,
            mode: 0o644,
            mtimeMs: Date.now(),
            blockSize: 131072,
            blocks: [hash],
            hash: "",
          },
        ],
      },
    );
    proxy.rules.instructions = () => [forged];
    await writeFiles(fleet.sourceRoot, { "wake.txt": "a new change ends the replica's long-poll\n" });
    await waitFor(
      () =>
        /refused an instruction: instruction payload is invalid at ops\.0\.path/.test(replica.agent.output()),
      {
        what: "the path refusal",
      },
    );
    expect(await lstat(join(replica.root, "..", "escape.txt")).catch(() => undefined)).toBeUndefined();
    expect(await lstat("/tmp/fleetsync-absolute-escape.txt").catch(() => undefined)).toBeUndefined();
  });

  test("a block whose bytes do not match its hash is refused by the replica; the file is not written until good bytes arrive", async () => {
    const { fleet, proxy, replica } = await fleetBehindProxy();
    proxy.rules.blocks = (body) => {
      const copy = Buffer.from(body);
      if (copy.length > 40) copy[40] = (copy[40] ?? 0) ^ 0xff;
      return copy;
    };
    await writeFiles(fleet.sourceRoot, { "data.bin": "important bytes that must not be corrupted\n" });
    await waitFor(() => replica.agent.output().includes("does not match its hash"), {
      what: "the block refusal",
    });
    expect(await lstat(join(replica.root, "data.bin")).catch(() => undefined)).toBeUndefined();

    proxy.rules.blocks = undefined;
    await waitForConvergence(fleet);
  });

  test("the hub refuses an uploaded block whose bytes do not match its hash", async () => {
    fleet = await startFleet({ replicas: 0 });
    const { HubClient } = await import("../../agent/hub/hub-client.ts");
    const { loadDeviceKey } = await import("../../agent/identity/device-identity.ts");
    const { hubId } = await readHubSigningKey(fleet.hub.dataDir);
    const client = new HubClient({
      hubUrl: fleet.hub.url,
      hubId,
      deviceId: fleet.source.deviceId,
      key: await loadDeviceKey(fleet.source.stateDir),
    });
    const claimed = createHash("sha256").update("the real content").digest("hex");
    await expect(
      client.uploadBlocks(encodeBlockFrames([{ hash: claimed, bytes: Buffer.from("forged content!!") }])),
    ).rejects.toThrow(/422: block .* does not match its content/);
  });
});
