// Enrolment on the device: make a key pair, trade the token and public key for an identity, write agent.yaml.
import { mkdir } from "node:fs/promises";
import { hostname } from "node:os";
import { resolve } from "node:path";
import { FleetsyncError } from "../shared/errors/fleetsync-error.ts";
import { type AgentConfig, saveAgentConfig } from "./config/agent-config.ts";
import { enrollWithHub } from "./hub/hub-client.ts";
import { createDeviceKey, savePinnedJwks } from "./identity/device-identity.ts";

export type EnrollOptions = {
  hub: string;
  token: string;
  stateDir: string;
  name?: string;
  /** share name → local root */
  paths: Record<string, string>;
};

export async function enrollDevice(options: EnrollOptions) {
  const stateDir = resolve(options.stateDir);
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  const name = options.name ?? hostname();
  const { publicJwk } = await createDeviceKey(stateDir);
  const answer = await enrollWithHub(options.hub, {
    token: options.token,
    name,
    publicKey: publicJwk as { kty: "OKP"; crv: "Ed25519"; x: string },
  });
  const unknown = Object.keys(options.paths).find((share) => !answer.shares.some((s) => s.name === share));
  if (unknown) {
    throw new FleetsyncError(
      "invalid",
      `--path names share "${unknown}", but the token grants only: ${answer.shares.map((s) => s.name).join(", ")}`,
    );
  }
  await savePinnedJwks(stateDir, answer.jwks);
  const config: AgentConfig = {
    hub: options.hub,
    hubId: answer.hubId,
    deviceId: answer.deviceId,
    name,
    defaults: {},
    log: { level: "info", destination: "stdout" },
    shares: Object.fromEntries(
      answer.shares.map((share) => [
        share.name,
        {
          path: options.paths[share.name] ? resolve(options.paths[share.name]!) : "",
          role: share.role,
          kind: share.kind,
          deletes: share.deletes,
        },
      ]),
    ),
  };
  await saveAgentConfig(stateDir, config);
  return { deviceId: answer.deviceId, name, stateDir, shares: answer.shares, config };
}
