import { describe, expect, test } from "vitest";
import { FleetsyncError } from "../../shared/errors/fleetsync-error.ts";
import { parseAgentConfig, resolveShares, SHARE_DEFAULTS } from "./agent-config.ts";

const SOURCE = "/etc/fleetsync/agent.yaml";

const valid = `
hub: https://hub.example:8443
hubId: hub-1
deviceId: dev-1
name: pi-kitchen
defaults:
  debounceMs: 500
  ignore: ["*.swp"]
shares:
  docs:
    path: /srv/docs
    role: replica
    deletes: keep
    ignore: ["build/"]
  media:
    path: /srv/media
    role: source
    debounceMs: 50
    rescanMinutes: 5
`;

function refusal(text: string): FleetsyncError {
  try {
    parseAgentConfig(text, SOURCE);
  } catch (error) {
    expect(error).toBeInstanceOf(FleetsyncError);
    expect((error as FleetsyncError).code).toBe("invalid");
    return error as FleetsyncError;
  }
  throw new Error("expected the config to be refused");
}

describe("parseAgentConfig", () => {
  test("reads a valid file and fills in the log section", () => {
    const config = parseAgentConfig(valid, SOURCE);
    expect(config.hub).toBe("https://hub.example:8443");
    expect(config.log).toEqual({ level: "info", destination: "stdout" });
    expect(config.shares.docs).toMatchObject({
      path: "/srv/docs",
      role: "replica",
      kind: "folder",
      deletes: "keep",
    });
    expect(config.shares.media).toMatchObject({ kind: "folder", deletes: "propagate", debounceMs: 50 });
  });

  test("accepts a file with no shares at all", () => {
    const config = parseAgentConfig("hub: http://127.0.0.1:1\nhubId: h\ndeviceId: d\nname: n\n", SOURCE);
    expect(config.shares).toEqual({});
    expect(config.defaults).toEqual({});
  });

  test("refuses a bad share field with a message naming the file and the field", () => {
    const error = refusal(valid.replace("    debounceMs: 50\n", "    debounceMs: -5\n"));
    expect(error.message).toContain(SOURCE);
    expect(error.message).toContain('field "shares.media.debounceMs"');
  });

  test.each([
    ["shares.docs.debounceMs", "    deletes: keep", "    deletes: keep\n    debounceMs: fast"],
    ["shares.docs.role", "role: replica", "role: owner"],
    ["shares.docs.path", "path: /srv/docs", "path: 42"],
    ["defaults.retentionDays", "  debounceMs: 500", "  debounceMs: 500\n  retentionDays: 99999"],
    ["hub", "hub: https://hub.example:8443", "hub: not a url"],
    ["log.level", "name: pi-kitchen", "name: pi-kitchen\nlog:\n  level: loud"],
  ])("names %s when it is invalid", (field, from, to) => {
    const text = valid.replace(from, to);
    expect(text).not.toBe(valid);
    expect(refusal(text).message).toContain(`field "${field}"`);
  });

  test.each([
    ["at the top", "name: pi-kitchen", "name: pi-kitchen\npassword: hunter2"],
    ["in a share", "    role: source", "    role: source\n    hooks: reboot"],
    ["in the defaults", "  debounceMs: 500", "  debounceMs: 500\n  debounce: 5"],
  ])("refuses an unknown key %s", (_where, from, to) => {
    const text = valid.replace(from, to);
    expect(text).not.toBe(valid);
    expect(refusal(text).message).toMatch(/Unrecognized key/i);
  });

  test("refuses text that is not YAML, saying so", () => {
    const error = refusal("hub: [unclosed\n  - : :");
    expect(error.message).toContain(`${SOURCE} is not valid YAML`);
  });

  test("refuses an empty file, naming the missing fields", () => {
    expect(refusal("").message).toContain(SOURCE);
  });
});

describe("resolveShares", () => {
  test("takes each setting from the share, else the defaults section, else the built-in default", () => {
    const shares = resolveShares(parseAgentConfig(valid, SOURCE));
    expect(shares).toEqual([
      {
        name: "docs",
        path: "/srv/docs",
        role: "replica",
        kind: "folder",
        deletes: "keep",
        debounceMs: 500,
        maxDebounceMs: SHARE_DEFAULTS.maxDebounceMs,
        rescanMinutes: SHARE_DEFAULTS.rescanMinutes,
        retentionDays: SHARE_DEFAULTS.retentionDays,
        ignore: ["*.swp", "build/"],
        dryRun: false,
        specialModeBits: false,
      },
      {
        name: "media",
        path: "/srv/media",
        role: "source",
        kind: "folder",
        deletes: "propagate",
        debounceMs: 50,
        maxDebounceMs: SHARE_DEFAULTS.maxDebounceMs,
        rescanMinutes: 5,
        retentionDays: SHARE_DEFAULTS.retentionDays,
        ignore: ["*.swp"],
        dryRun: false,
        specialModeBits: false,
      },
    ]);
  });

  test("lets a share turn off a setting the defaults turned on, and keep a zero", () => {
    const text = valid
      .replace("  debounceMs: 500", "  debounceMs: 500\n  dryRun: true")
      .replace("    deletes: keep", "    deletes: keep\n    dryRun: false\n    debounceMs: 0");
    const [docs, media] = resolveShares(parseAgentConfig(text, SOURCE));
    expect(docs?.dryRun).toBe(false);
    expect(docs?.debounceMs).toBe(0);
    expect(media?.dryRun).toBe(true);
  });
  test("refuses a hub without an http(s) scheme, naming the field and the fix", () => {
    const error = refusal(valid.replace("hub: https://hub.example:8443", "hub: hub.lan:8787"));
    expect(error.message).toContain(
      'field "hub": must be an http:// or https:// URL, e.g. http://hub.lan:8787',
    );
  });
});
