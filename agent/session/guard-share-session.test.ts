import { describe, expect, test } from "vitest";
import { FleetsyncError } from "../../shared/errors/fleetsync-error.ts";
import { type ResolvedShare, SHARE_DEFAULTS } from "../config/agent-config.ts";
import type { AgentLogger } from "../log/agent-logger.ts";
import { guardReceivingSide } from "./guard-share-session.ts";
import type { ReceivingSide } from "./receive-instructions.ts";

const share: ResolvedShare = {
  ...SHARE_DEFAULTS,
  name: "docs",
  path: "/srv/docs",
  role: "replica",
  kind: "folder",
  deletes: "propagate",
};

function recordingLogger() {
  const errors: string[] = [];
  const log: AgentLogger = {
    debug() {},
    info() {},
    warn() {},
    error: (message) => errors.push(message),
    child: () => log,
  };
  return { log, errors };
}

/** A replica that is ready once prepared; `prepareError` makes prepare() throw instead. */
function fakeReplica(prepareError?: Error): ReceivingSide {
  let ready = false;
  return {
    share,
    get ready() {
      return ready;
    },
    async prepare() {
      if (prepareError) throw prepareError;
      ready = true;
      return true;
    },
    async apply() {
      return { complete: true };
    },
    async maintain() {},
    async retryFailed() {},
    retryDueInMs: () => Number.POSITIVE_INFINITY,
    rescanDueInMs: () => 60_000,
  };
}

function deps(open: () => Promise<ReceivingSide>, clock: { ms: number }) {
  const { log, errors } = recordingLogger();
  return {
    errors,
    deps: {
      log,
      signal: new AbortController().signal,
      open: async () => open(),
      now: () => clock.ms,
    },
  };
}

describe("guardReceivingSide", () => {
  test("a share that cannot open is not ready, is logged by name, and opens on a prepare after the backoff", async () => {
    const clock = { ms: 0 };
    let opens = 0;
    const { deps: d, errors } = deps(async () => {
      if (++opens === 1) throw new Error("state file /state/shares/docs.json is damaged");
      return fakeReplica();
    }, clock);
    const guarded = guardReceivingSide(share, d);

    expect(await guarded.prepare()).toBe(false);
    expect(guarded.ready).toBe(false);
    expect(errors).toEqual([
      expect.stringMatching(
        /^share "docs": opening the share failed: state file \/state\/shares\/docs\.json is damaged; retrying in \d+ ms$/,
      ),
    ]);
    const waitMs = guarded.rescanDueInMs(clock.ms);
    expect(waitMs).toBeGreaterThan(0);
    expect(await guarded.prepare()).toBe(false);
    expect(opens).toBe(1);

    clock.ms += waitMs;
    expect(await guarded.prepare()).toBe(true);
    expect(guarded.ready).toBe(true);
    expect(opens).toBe(2);
  });

  test("a local error while preparing is logged and retried; a hub error goes to the instruction loop", async () => {
    const clock = { ms: 0 };
    const local = guardReceivingSide(
      share,
      deps(async () => fakeReplica(new Error("EIO: i/o error")), clock).deps,
    );
    expect(await local.prepare()).toBe(false);

    const hubError = new FleetsyncError("unauthenticated", "device revoked");
    const remote = guardReceivingSide(share, deps(async () => fakeReplica(hubError), clock).deps);
    await expect(remote.prepare()).rejects.toBe(hubError);
  });
});
