// `agent enroll --pihole SHARE=URL --pihole-password-file SHARE=FILE` writes the Pi-hole share's local settings.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, expect, test } from "vitest";
import { parse } from "yaml";
import {
  adminCall,
  makeTempDir,
  mintToken,
  runCliCaptured,
  startHubProcess,
  type TestHub,
} from "../support/fleet.ts";

let hub: TestHub | undefined;
afterEach(async () => {
  await hub?.stop();
  hub = undefined;
});

test("enrolling with --pihole writes kind, role, the local URL and the password file into agent.yaml", async () => {
  hub = await startHubProcess();
  await adminCall(hub, "POST", "/v1/admin/shares", { name: "dns", kind: "pihole" });
  const stateDir = join(await makeTempDir("fleetsync-enroll-pihole-"), "state");
  const passwordDir = await makeTempDir("fleetsync-pw-");
  const enrolled = await runCliCaptured([
    "agent",
    "enroll",
    "--hub",
    hub.url,
    "--token",
    await mintToken(hub, [{ name: "dns", role: "replica" }]),
    "--state",
    stateDir,
    "--pihole",
    "dns=http://127.0.0.1:8080",
    "--pihole-password-file",
    `dns=${join(passwordDir, "pw")}`,
  ]);
  expect(enrolled.code, enrolled.stderr).toBe(0);
  const config = parse(await readFile(join(stateDir, "agent.yaml"), "utf8"));
  expect(config.shares.dns).toEqual({
    kind: "pihole",
    role: "replica",
    deletes: "propagate",
    path: "",
    pihole: { url: "http://127.0.0.1:8080", passwordFile: join(passwordDir, "pw") },
  });
});

test("--pihole naming a share the token does not grant is refused before the token is spent", async () => {
  hub = await startHubProcess();
  await adminCall(hub, "POST", "/v1/admin/shares", { name: "dns", kind: "pihole" });
  const token = await mintToken(hub, [{ name: "dns", role: "replica" }]);
  const stateDir = join(await makeTempDir("fleetsync-enroll-pihole-"), "state");
  const refused = await runCliCaptured([
    "agent",
    "enroll",
    "--hub",
    hub.url,
    "--token",
    token,
    "--state",
    stateDir,
    "--pihole",
    "other=http://127.0.0.1:8080",
  ]);
  expect(refused.code).not.toBe(0);
  expect(refused.stderr).toContain('--pihole names share "other", but the token grants only: dns');
  const again = await runCliCaptured([
    "agent",
    "enroll",
    "--hub",
    hub.url,
    "--token",
    token,
    "--state",
    stateDir,
  ]);
  expect(again.code, again.stderr).toBe(0);
});
