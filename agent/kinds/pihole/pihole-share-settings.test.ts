import { describe, expect, test } from "vitest";
import { PIHOLE_SYNC_ITEMS } from "../../../shared/protocol/pihole-items.ts";
import { PiholeShareSettingsSchema } from "./pihole-share-settings.ts";

function refusal(input: unknown): string {
  const parsed = PiholeShareSettingsSchema.safeParse(input);
  if (parsed.success) throw new Error("expected a refusal");
  return parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
}

describe("PiholeShareSettingsSchema", () => {
  test("defaults to the local API, /etc/pihole and the six row and record items, no config keys", () => {
    expect(PiholeShareSettingsSchema.parse({ passwordFile: "/etc/fleetsync/pihole-pw" })).toEqual({
      url: "http://127.0.0.1",
      passwordFile: "/etc/fleetsync/pihole-pw",
      configDir: "/etc/pihole",
      sync: [...PIHOLE_SYNC_ITEMS],
      config: [],
      pollMinutes: 5,
    });
  });

  test.each(["http://127.0.0.1:8080/api/", "http://localhost:8080", "https://[::1]:443", "http://127.0.1.1"])(
    "accepts the loopback URL %s",
    (url) => {
      expect(PiholeShareSettingsSchema.parse({ url }).url).not.toMatch(/\/api$/);
    },
  );

  test.each(["http://192.168.1.2", "http://pi.hole", "https://10.0.0.1:443"])(
    "refuses the non-loopback URL %s",
    (url) => {
      expect(refusal({ url })).toContain(
        "is not on loopback: the agent talks only to the Pi-hole on its own host",
      );
    },
  );

  test.each([
    ["webserver.api.password", "is a password, hash or secret"],
    ["webserver.port", "is host-specific (webserver)"],
    ["files.database", "is host-specific (files)"],
    ["dns.interface", "is host-specific (dns.interface)"],
    ["dns", "is host-specific (dns.interface)"],
    ["dhcp.leaseFile", "is host-specific"],
    ["dns.hosts", "is a sync item"],
  ])("refuses to sync the config key %s", (key, why) => {
    expect(refusal({ config: [key] })).toContain(`config.0: config key "${key}" ${why}`);
  });

  test("accepts dns.upstreams only when it is named", () => {
    expect(PiholeShareSettingsSchema.parse({ config: ["dns.upstreams", "dns.queryLogging"] }).config).toEqual(
      ["dns.queryLogging", "dns.upstreams"],
    );
  });

  test("refuses both a password and a password file", () => {
    expect(refusal({ password: "a", passwordFile: "/x" })).toContain(
      "give password or passwordFile, not both",
    );
  });
});
