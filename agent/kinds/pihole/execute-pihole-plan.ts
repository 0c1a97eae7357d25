// Carries out a planned Pi-hole change through the row-level API and PATCH /api/config, or only logs it (dry run).
import { FleetsyncError } from "../../../shared/errors/fleetsync-error.ts";
import type { AgentLogger } from "../../log/agent-logger.ts";
import type { PiholeApi, PiholeRequest } from "./pihole-api.ts";
import type { PiholeDocumentName } from "./pihole-documents.ts";
import type { PiholePlan, PiholeStep } from "./plan-pihole-changes.ts";
import { renderPiholeRequests } from "./render-pihole-requests.ts";

export type PiholeExecution = {
  /** Documents whose steps failed, with the precise reason. */
  failed: Map<PiholeDocumentName, string>;
  gravityRan: boolean;
  requests: number;
};

/** Which document a step carries out (config steps belong to every config document in the batch). */
function documentsOfStep(step: PiholeStep, configDocs: PiholeDocumentName[]): PiholeDocumentName[] {
  return step.do === "patchConfig" ? configDocs : [step.item];
}

type Processed = { processed?: { errors?: Array<{ item?: string; error?: string }> } };

async function send(api: PiholeApi, request: PiholeRequest): Promise<void> {
  const body = await api.request<Processed | undefined>(request);
  const errors = body?.processed?.errors ?? [];
  if (errors.length > 0) {
    const first = errors[0];
    throw new FleetsyncError(
      "invalid",
      `Pi-hole at ${api.url} refused ${request.method} /api${request.path} for "${first?.item}": ${first?.error}${errors.length > 1 ? ` (and ${errors.length - 1} more)` : ""}`,
      { retryable: false },
    );
  }
}

async function groupIdsOf(api: PiholeApi): Promise<Map<string, number>> {
  const { groups } = await api.request<{ groups: Array<{ id: number; name: string }> }>({
    method: "GET",
    path: "/groups",
  });
  return new Map(groups.map((g) => [g.name, g.id]));
}

async function ftlUptime(api: PiholeApi): Promise<number | undefined> {
  try {
    const body = await api.request<{ ftl?: { uptime?: number } }>({
      method: "GET",
      path: "/info/ftl",
      timeoutMs: 1000,
    });
    return body?.ftl?.uptime;
  } catch {
    return undefined;
  }
}

async function isDatabaseOpen(api: PiholeApi): Promise<boolean> {
  return api.request({ method: "GET", path: "/groups", timeoutMs: 1000 }).then(
    () => true,
    () => false,
  );
}

async function lastGravityRun(api: PiholeApi): Promise<number | undefined> {
  try {
    const body = await api.request<{ gravity?: { last_update?: number } }>({
      method: "GET",
      path: "/stats/summary",
    });
    return body?.gravity?.last_update;
  } catch {
    return undefined;
  }
}

/**
 * FTL's last gravity run (Unix seconds) once FTL has read it since it started, so that a run started now is one it
 * notices. FTL reloads gravity.db only when its once-a-second check finds `info.updated` newer than what it read
 * last, and the first check after a start only records the value (the API reports 0 until then). A gravity run
 * that ends before that first check, as a small one right after a config change that restarts FTL does, becomes
 * FTL's starting point: it is never reloaded, FTL keeps the replaced file whose gravity table gravity dropped, and
 * the next DNS query closes the database ("no such table: main.gravity"). The timestamp has one-second steps, so
 * a run in the same second as the last one would look unchanged too: this also waits for the next second.
 */
async function lastGravityRunNoticeable(
  api: PiholeApi,
  log: AgentLogger,
  timeoutMs = 10_000,
): Promise<number | undefined> {
  const deadline = Date.now() + timeoutMs;
  let seconds = await lastGravityRun(api);
  while (!(seconds !== undefined && seconds > 0) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    seconds = await lastGravityRun(api);
  }
  if (!(seconds !== undefined && seconds > 0)) {
    log.warn("FTL reported no gravity run of its gravity.db yet; running gravity anyway", { url: api.url });
    return seconds;
  }
  const waitMs = (seconds + 1) * 1000 - Date.now();
  if (waitMs > 0) await new Promise((resolve) => setTimeout(resolve, waitMs));
  return seconds;
}

/**
 * Gravity swaps gravity.db by rename and FTL reopens it a moment later; until then FTL still writes to the old,
 * replaced file, so a change sent in between would be lost. Waits until FTL reports the new run: one newer than
 * the run before it and not older than the start of ours (FTL is on this host, so the clocks are one clock; the
 * second test holds even when the run before could not be read).
 */
async function waitForGravityReload(
  api: PiholeApi,
  run: { before: number | undefined; startedAtMs: number },
  timeoutMs = 60_000,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  const startedSeconds = Math.floor(run.startedAtMs / 1000);
  while (Date.now() < deadline) {
    const now = await lastGravityRun(api);
    const isNewer =
      now !== undefined && now >= startedSeconds && (run.before === undefined || now > run.before);
    if (isNewer && (await isDatabaseOpen(api))) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
}

/** After a change FTL restarts for by its own rules: waits until it went away (or restarted) and answers again. */
async function waitForFtlRestart(
  api: PiholeApi,
  uptimeBefore: number | undefined,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let sawDown = false;
  while (Date.now() < deadline) {
    const uptime = await ftlUptime(api);
    if (uptime === undefined) sawDown = true;
    else if (sawDown || (uptimeBefore !== undefined && uptime < uptimeBefore)) {
      // Back over HTTP; its database opens a moment later.
      if (await isDatabaseOpen(api)) return;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new FleetsyncError(
    "unavailable",
    `Pi-hole at ${api.url} did not come back within ${timeoutMs / 1000} s after a change that restarts FTL; check its FTL.log`,
    { retryable: true },
  );
}

export async function executePiholePlan(options: {
  api: PiholeApi;
  plan: PiholePlan;
  groupIds: Map<string, number>;
  dryRun: boolean;
  log: AgentLogger;
  /** Documents carried by the PATCH /api/config step. */
  configDocs: PiholeDocumentName[];
}): Promise<PiholeExecution> {
  const { api, plan, dryRun, log, configDocs } = options;
  let groupIds = options.groupIds;
  const failed = new Map<PiholeDocumentName, string>();
  let requests = 0;
  const groupId = (name: string): number | string => {
    const id = groupIds.get(name);
    if (id !== undefined) return id;
    if (dryRun) return `<id of new group ${name}>`;
    throw new FleetsyncError(
      "invalid",
      `Pi-hole at ${api.url} has no group "${name}" (creating it failed?)`,
      {
        retryable: false,
      },
    );
  };
  for (const step of plan.steps) {
    const docs = documentsOfStep(step, configDocs);
    if (docs.some((d) => failed.has(d))) continue;
    try {
      const calls = renderPiholeRequests(step, groupId);
      const uptimeBefore =
        step.do === "patchConfig" && step.restartsFtl && !dryRun ? await ftlUptime(api) : undefined;
      for (const call of calls) {
        requests += 1;
        if (dryRun) {
          log.info("dry run: would call the Pi-hole API", {
            method: call.method,
            path: `/api${call.path}`,
            body: call.body,
          });
          continue;
        }
        await send(api, call);
      }
      if (dryRun) continue;
      if (step.do === "create" && step.item === "groups") groupIds = await groupIdsOf(api);
      if (step.do === "patchConfig" && step.restartsFtl) {
        log.info("waiting for FTL to restart after a config change that needs one", {
          keys: Object.keys(step.config),
        });
        await waitForFtlRestart(api, uptimeBefore);
      }
    } catch (error) {
      for (const d of docs) failed.set(d, (error as Error).message);
    }
  }
  let gravityRan = false;
  if (plan.runGravity && !failed.has("lists")) {
    if (dryRun) {
      log.info("dry run: would call the Pi-hole API", { method: "POST", path: "/api/action/gravity" });
    } else {
      try {
        const before = await lastGravityRunNoticeable(api, log);
        const startedAtMs = Date.now();
        const transcript = await api.request<string>({
          method: "POST",
          path: "/action/gravity",
          asText: true,
          timeoutMs: 0,
        });
        gravityRan = true;
        if (!(await waitForGravityReload(api, { before, startedAtMs })))
          log.warn("FTL did not report the new gravity run within 60 s; going on", { url: api.url });
        const problems = transcript.split("\n").filter((line) => line.includes("[✗]"));
        log.info("gravity ran because the set of adlists changed", { problems: problems.slice(0, 10) });
        if (!transcript.includes("Done.") && problems.length > 0)
          failed.set(
            "lists",
            `Pi-hole at ${api.url}: gravity failed after the lists changed: ${problems.join("; ")}`,
          );
      } catch (error) {
        failed.set("lists", `lists applied, but gravity did not finish: ${(error as Error).message}`);
      }
    }
  }
  return { failed, gravityRan, requests };
}
