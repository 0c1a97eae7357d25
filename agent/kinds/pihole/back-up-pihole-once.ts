// Before a replica's first apply: its own Teleporter export, kept in the agent's state so nothing on it is lost.
import { mkdir, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { AgentLogger } from "../../log/agent-logger.ts";
import type { PiholeApi } from "./pihole-api.ts";

export async function backUpPiholeOnce(options: {
  api: PiholeApi;
  stateDir: string;
  shareName: string;
  log: AgentLogger;
}): Promise<void> {
  const { api, stateDir, shareName, log } = options;
  const dir = join(stateDir, "pihole-backups");
  const file = join(dir, `${shareName}-before-first-sync.zip`);
  const exists = await stat(file).then(
    () => true,
    () => false,
  );
  if (exists) return;
  const zip = await api.request<Uint8Array>({
    method: "GET",
    path: "/teleporter",
    asBytes: true,
    timeoutMs: 60_000,
  });
  await mkdir(dir, { recursive: true });
  await writeFile(file, zip, { mode: 0o600 });
  log.info("saved this Pi-hole's state before its first sync", { file });
}
