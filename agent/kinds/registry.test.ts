// The kind registry: a Pi-hole share's items come from the hub, so agent.yaml may not carry its own.
import { describe, expect, test } from "vitest";
import type { ResolvedShare } from "../config/agent-config.ts";
import type { AgentLogger } from "../log/agent-logger.ts";
import { createShareKind } from "./registry.ts";

const quiet: AgentLogger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  child: () => quiet,
};

function piholeShare(settings: Record<string, unknown>): ResolvedShare {
  return {
    name: "dns",
    path: "",
    role: "replica",
    kind: "pihole",
    deletes: "propagate",
    debounceMs: 200,
    maxDebounceMs: 2000,
    rescanMinutes: 60,
    retentionDays: 30,
    ignore: [],
    dryRun: false,
    specialModeBits: false,
    settings,
  };
}

describe("a Pi-hole share in agent.yaml", () => {
  test.each(["sync", "config"])("with its own %s is refused, naming share set", (key) => {
    expect(() =>
      createShareKind(piholeShare({ url: "http://127.0.0.1:80", [key]: [] }), {
        shareName: "dns",
        stateDir: "/nonexistent",
        log: quiet,
      }),
    ).toThrow(
      `agent.yaml shares.dns.pihole.${key}: what a Pi-hole share syncs is set on the hub, the same for every member; remove ${key} here and use fleetsync share set dns --pihole-${key} …`,
    );
  });

  test("waits for the hub's word on what it syncs: with the hub away before any answer it does not start", async () => {
    const kind = createShareKind(piholeShare({ url: "http://127.0.0.1:9" }), {
      shareName: "dns",
      stateDir: "/nonexistent",
      log: quiet,
      describeShare: async () => {
        throw new Error("hub at http://127.0.0.1:8787 is not answering");
      },
    });
    expect(await kind.prepare({ isFirstRun: true, role: "replica" })).toEqual({
      ok: false,
      reason:
        'share "dns": cannot read from the hub what this share syncs (hub at http://127.0.0.1:8787 is not answering); retrying later',
    });
  });
});
