// The device's instruction loop: long-poll (or, where the hub offers it, wait on its wake socket and poll) for signed instructions, verify them against the pinned hub keys, hand each to its share.
import type { JSONWebKeySet } from "jose";
import { FleetsyncError } from "../../shared/errors/fleetsync-error.ts";
import { verifyInstruction } from "../../shared/instructions/instruction.ts";
import { backoffMs, sleep } from "../hub/backoff.ts";
import type { HubClient } from "../hub/hub-client.ts";
import { WakeChannel } from "../hub/wake-channel.ts";
import type { AgentLogger } from "../log/agent-logger.ts";
import type { ReceivingSide } from "./receive-instructions.ts";

export const LONG_POLL_SECONDS = 25;
const ROOT_RECHECK_MS = 5000;
const TRASH_CLEAN_INTERVAL_MS = 24 * 3_600_000;
/** With wake sockets open, the loop still polls this often on its own, in case a wake-up went astray. */
export const WAKE_SAFETY_POLL_MS = 300_000;
/** How long the loop gives freshly opened wake sockets before it starts a long-poll instead. */
const WAKE_OPEN_GRACE_MS = 3000;

export type InstructionLoopDeps = {
  client: HubClient;
  replicas: ReceivingSide[];
  jwks: JSONWebKeySet;
  hubId: string;
  deviceId: string;
  log: AgentLogger;
  signal: AbortSignal;
};

export async function runInstructionLoop(deps: InstructionLoopDeps): Promise<void> {
  const { client, replicas, log, signal } = deps;
  const byName = new Map(replicas.map((r) => [r.share.name, r]));
  let attempt = 0;
  let lastTrashClean = Date.now();
  const wakeups = new WakeChannel({ client, shares: replicas.map((r) => r.share.name), log, signal });
  let askedForWakeSockets = false;
  while (!signal.aborted) {
    try {
      for (const replica of replicas) {
        if (!replica.ready || replica.rescanDueInMs(Date.now()) <= 0) await replica.prepare();
      }
      if (!replicas.some((r) => r.ready)) {
        await sleep(ROOT_RECHECK_MS, signal);
        continue;
      }
      if (Date.now() - lastTrashClean > TRASH_CLEAN_INTERVAL_MS) {
        lastTrashClean = Date.now();
        for (const replica of replicas) await replica.maintain();
      }
      for (const replica of replicas) await replica.retryFailed();
      if (!askedForWakeSockets) {
        // The hub's config answer says whether it offers wake sockets (Workers); the Node hub keeps long-polls.
        await client.config();
        askedForWakeSockets = true;
        if (client.offersWakeSockets) {
          wakeups.start();
          await wakeups.next(WAKE_OPEN_GRACE_MS);
        }
      }
      const nextRescanMs = nextDueMs(replicas);
      const allReady = replicas.every((r) => r.ready);
      const longest = allReady ? LONG_POLL_SECONDS : Math.ceil(ROOT_RECHECK_MS / 1000);
      const waitSeconds = Math.max(1, Math.min(longest, Math.ceil(nextRescanMs / 1000)));
      // With every wake socket open: look now (nothing is parked on the hub), then wait for the next wake-up.
      const woken = wakeups.open;
      const polledAt = Date.now();
      const batch = await client.instructions(woken ? 0 : waitSeconds, signal);
      if (!woken && batch.length === 0 && Date.now() - polledAt < (waitSeconds * 1000) / 2) {
        // An empty answer long before the wait ended (a stopping hub, no shares yet): don't spin.
        await sleep(backoffMs(2, Math.random()) + 500, signal);
        continue;
      }
      let incomplete = false;
      let applied = 0;
      for (const jws of batch) {
        if (signal.aborted) break;
        const check = await verifyInstruction(jws, {
          jwks: deps.jwks,
          hubId: deps.hubId,
          deviceId: deps.deviceId,
          nowSeconds: Math.floor(Date.now() / 1000),
        });
        if (!check.ok) {
          log.error(`refused an instruction: ${check.reason}; nothing was written`);
          incomplete = true;
          continue;
        }
        const replica = byName.get(check.instruction.share);
        if (!replica) {
          log.error(
            `refused an instruction for share "${check.instruction.share}", which this device does not receive`,
          );
          incomplete = true;
          continue;
        }
        if (!replica.ready) continue;
        const { complete } = await replica.apply(check.instruction, check.instruction.jti);
        if (!complete) incomplete = true;
        else applied++;
      }
      if (incomplete) {
        attempt++;
        await sleep(backoffMs(attempt, Math.random()), signal);
      } else attempt = 0;
      // An applied instruction may have had more behind it (a long catch-up comes as several): look again at once,
      // and wait for a wake-up only once the hub has nothing more, or nothing this device could apply.
      if (woken && !incomplete && applied === 0) {
        // A wake-up, a closed socket (long-polls resume), the rescan or a retry, whichever is first. Due times are
        // read again: applying this batch may have just failed or deferred operations, due for a retry in seconds.
        const untilRescanMs = allReady ? Math.min(WAKE_SAFETY_POLL_MS, nextDueMs(replicas)) : ROOT_RECHECK_MS;
        await wakeups.next(Math.max(1000, untilRescanMs));
      }
    } catch (error) {
      if (signal.aborted) break;
      attempt++;
      const retryable = !(error instanceof FleetsyncError) || error.retryable;
      const wait = retryable ? backoffMs(attempt, Math.random()) : 60_000;
      log[retryable ? "warn" : "error"]("instruction loop failed; will retry", {
        error: (error as Error).message,
        retryInMs: wait,
      });
      if (error instanceof FleetsyncError && error.code === "unauthenticated") {
        log.error("the hub refuses this device's credentials (revoked?); re-enroll with a new token");
      }
      await sleep(wait, signal);
    }
  }
}

/** Milliseconds until the first share's rescan or retry of failed and deferred operations is due. */
function nextDueMs(
  replicas: readonly { rescanDueInMs(nowMs: number): number; retryDueInMs(nowMs: number): number }[],
) {
  const now = Date.now();
  return Math.min(...replicas.map((r) => Math.min(r.rescanDueInMs(now), r.retryDueInMs(now))));
}
