// Enrolment on the device: make a key pair, trade the token and public key for an identity, write agent.yaml.
import { chmod, mkdir, rename, stat } from "node:fs/promises";
import { hostname } from "node:os";
import { join, resolve } from "node:path";
import { decodeJwt } from "jose";
import { FleetsyncError } from "../shared/errors/fleetsync-error.ts";
import type { Role } from "../shared/protocol/shares.ts";
import { type AgentConfig, CONFIG_FILE, loadAgentConfig, saveAgentConfig } from "./config/agent-config.ts";
import { checkSharePaths } from "./config/check-share-paths.ts";
import { enrollWithHub } from "./hub/hub-client.ts";
import { createDeviceKey, PRIVATE_KEY_FILE, savePinnedJwks } from "./identity/device-identity.ts";

export type EnrollOptions = {
  hub: string;
  token: string;
  stateDir: string;
  /** Sent to the hub only when given; otherwise the hub names the device by the token's label or the host name. */
  name?: string;
  /** share name → local root */
  paths: Record<string, string>;
  /** Pi-hole share name → the local Pi-hole's API URL and password file (written to agent.yaml as given). */
  pihole?: Record<string, { url?: string; passwordFile?: string }>;
  /** Replace an identity the state dir already holds (the old device stays on the hub until revoked). */
  force?: boolean;
};

export type ReplacedDevice = { deviceId: string; name: string };

export async function enrollDevice(options: EnrollOptions) {
  const stateDir = resolve(options.stateDir);
  // Everything that can be refused is checked before the single-use token is spent on the hub.
  const replaced = await findExistingIdentity(stateDir);
  if (replaced && !options.force) {
    throw new FleetsyncError(
      "conflict",
      `${stateDir} already holds the identity of device ${replaced.deviceId} ("${replaced.name}"); to run it: fleetsync agent run --state ${stateDir}; to replace it with a new device: add --force, then revoke the old one: fleetsync device revoke ${replaced.deviceId}`,
    );
  }
  const granted = sharesNamedBy(options.token);
  for (const [flag, named] of [
    ["--path", options.paths],
    ["--pihole", options.pihole ?? {}],
  ] as const) {
    const unknown = granted && Object.keys(named).find((share) => !granted.has(share));
    if (unknown) {
      throw new FleetsyncError(
        "invalid",
        `${flag} names share "${unknown}", but the token grants only: ${[...(granted?.keys() ?? [])].join(", ")}`,
      );
    }
  }
  await checkSharePaths({ stateDir, shares: options.paths });
  if (granted) await prepareShareFolders(granted, options.paths);
  await mkdir(stateDir, { recursive: true, mode: 0o700 });

  const deviceKey = await createDeviceKey();
  const answer = await enrollWithHub(options.hub, {
    token: options.token,
    ...(options.name ? { name: options.name } : {}),
    hostname: hostname().slice(0, 128) || "unknown",
    publicKey: deviceKey.publicJwk as { kty: "OKP"; crv: "Ed25519"; x: string },
  });
  const name = answer.name ?? options.name ?? hostname();
  // A token that could not be read ahead of time: its shares are known now, from the hub's answer.
  if (!granted) await prepareShareFolders(new Map(answer.shares.map((s) => [s.name, s.role])), options.paths);
  // Only now, with the hub's answer in hand, does anything in the state dir change.
  if (replaced) await setAsideShareStates(stateDir);
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
        share.kind === "pihole"
          ? // The local Pi-hole's API settings are the device's own (its password never goes to the hub).
            {
              kind: "pihole" as const,
              role: share.role,
              deletes: share.deletes,
              path: "",
              pihole: { ...options.pihole?.[share.name] },
            }
          : {
              kind: "folder" as const,
              path: options.paths[share.name] ? resolve(options.paths[share.name]!) : "",
              role: share.role,
              deletes: share.deletes,
            },
      ]),
    ),
  };
  await saveAgentConfig(stateDir, config);
  return { deviceId: answer.deviceId, name, stateDir, shares: answer.shares, config, replaced };
}

/** The device a state dir already belongs to (from agent.yaml), or undefined for a fresh dir. */
async function findExistingIdentity(stateDir: string): Promise<ReplacedDevice | undefined> {
  const has = async (file: string) => (await stat(join(stateDir, file)).catch(() => undefined)) !== undefined;
  if (!(await has(CONFIG_FILE)) && !(await has(PRIVATE_KEY_FILE))) return undefined;
  try {
    const config = await loadAgentConfig(stateDir);
    return { deviceId: config.deviceId, name: config.name };
  } catch {
    return { deviceId: "(unknown: agent.yaml is missing or damaged)", name: "?" };
  }
}

/** A source shares a folder that exists; a replica's folder is made (mode 0755) if it is not there yet. */
async function prepareShareFolders(roles: Map<string, Role>, paths: Record<string, string>): Promise<void> {
  for (const [share, given] of Object.entries(paths)) {
    const role = roles.get(share);
    if (!role) continue;
    const folder = resolve(given);
    const found = await stat(folder).catch((error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT") return undefined;
      throw new FleetsyncError("invalid", `--path ${share}=${given}: cannot read ${folder} (${error.code})`);
    });
    if (found && !found.isDirectory())
      throw new FleetsyncError("invalid", `--path ${share}=${given}: ${folder} is not a directory`);
    if (found) continue;
    if (role === "source") {
      throw new FleetsyncError(
        "invalid",
        `--path ${share}=${given}: ${folder} does not exist; a source shares an existing folder — create it or fix the path`,
      );
    }
    try {
      await mkdir(folder, { recursive: true });
      await chmod(folder, 0o755);
    } catch (error) {
      throw new FleetsyncError(
        "invalid",
        `--path ${share}=${given}: cannot create ${folder} (${(error as NodeJS.ErrnoException).code}); create it or fix the path`,
        { cause: error },
      );
    }
  }
}

/** The old device's per-share cursors and indexes mean nothing to the new one: keep them aside, not in use. */
async function setAsideShareStates(stateDir: string): Promise<void> {
  const stamp = new Date().toISOString().replaceAll(":", "-");
  await rename(join(stateDir, "shares"), join(stateDir, `shares.replaced-${stamp}`)).catch(
    (error: NodeJS.ErrnoException) => {
      if (error.code !== "ENOENT") throw error;
    },
  );
}

/** The shares (name → role) an enrolment token carries (read without verifying; the hub verifies), if readable. */
function sharesNamedBy(token: string): Map<string, Role> | undefined {
  try {
    const shares = decodeJwt(token).shares;
    return Array.isArray(shares)
      ? new Map(shares.map((s: { name?: unknown; role?: unknown }) => [String(s.name), s.role as Role]))
      : undefined;
  } catch {
    return undefined;
  }
}
