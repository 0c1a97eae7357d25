// One device's instructions; on Node, the devices asking in the same turn of the event loop share one bulk round.
import type { HubContext } from "./hub-context.ts";
import { type IssuedInstructions, issueInstructions } from "./issue-instructions.ts";

type Waiting = {
  resolve: (issued: IssuedInstructions) => void;
  reject: (error: unknown) => void;
  /** The device's agent expands block-list deltas (it asked with `deltas=1`). */
  deltas: boolean;
};
type Round = Map<string, Waiting[]>;

/** The round each hub context is gathering (devices asked since its flush was scheduled). */
const gathering = new WeakMap<HubContext, Round>();

/**
 * A commit wakes every waiting member at once; with `ctx.coalesceInstructions` their requests join one round of
 * issueInstructions (a few bulk queries and one write) instead of a dozen statements each. Without it (Workers,
 * where a promise must settle inside the request that made it) each device is issued alone.
 */
export function issueDeviceInstructions(
  ctx: HubContext,
  deviceId: string,
  options: { deltas?: boolean } = {},
): Promise<IssuedInstructions> {
  const deltas = options.deltas === true;
  if (!ctx.coalesceInstructions) {
    const deltaDevices = new Set(deltas ? [deviceId] : []);
    return issueInstructions(ctx, [deviceId], { deltaDevices }).then((issued) => issued.get(deviceId)!);
  }
  return new Promise((resolve, reject) => {
    let round = gathering.get(ctx);
    if (!round) {
      const started: Round = new Map();
      round = started;
      gathering.set(ctx, started);
      // After the current turn: every long-poll the same wake-up resumed has joined by then.
      setTimeout(() => {
        gathering.delete(ctx);
        void flush(ctx, started);
      }, 0);
    }
    const list = round.get(deviceId) ?? [];
    list.push({ resolve, reject, deltas });
    round.set(deviceId, list);
  });
}

async function flush(ctx: HubContext, round: Round): Promise<void> {
  try {
    // A device asking twice in one round with different answers gets whole lists (right for either request).
    const deltaDevices = new Set(
      [...round].filter(([, waiting]) => waiting.every((w) => w.deltas)).map(([deviceId]) => deviceId),
    );
    const issued = await issueInstructions(ctx, [...round.keys()], { deltaDevices });
    for (const [deviceId, waiting] of round) for (const w of waiting) w.resolve(issued.get(deviceId)!);
  } catch (error) {
    for (const waiting of round.values()) for (const w of waiting) w.reject(error);
  }
}
