// Enrolment on the device: make a key pair, trade the token and public key for an identity, write agent.yaml.
import { mkdir } from "node:fs/promises";
import { hostname } from "node:os";
import { resolve } from "node:path";
import { decodeJwt } from "jose";
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
  // Check --path against the shares the token names before spending the single-use token on the hub.
  const granted = sharesNamedBy(options.token);
  const unknown = granted && Object.keys(options.paths).find((share) => !granted.includes(share));
  if (unknown) {
    throw new FleetsyncError(
      "invalid",
      `--path names share "${unknown}", but the token grants only: ${granted.join(", ")}`,
    );
  }
  const deviceKey = await createDeviceKey();
  const answer = await enrollWithHub(options.hub, {
    token: options.token,
    name,
    publicKey: deviceKey.publicJwk as { kty: "OKP"; crv: "Ed25519"; x: string },
  });
  // Only now, with the hub's answer in hand, does anything in the state dir change.
  await deviceKey.save(stateDir);
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

/** The share names an enrolment token carries (read without verifying; the hub verifies), if it is readable. */
function sharesNamedBy(token: string): string[] | undefined {
  try {
    const shares = decodeJwt(token).shares;
    return Array.isArray(shares) ? shares.map((s: { name?: unknown }) => String(s.name)) : undefined;
  } catch {
    return undefined;
  }
}
