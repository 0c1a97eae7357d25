// A Pi-hole share's items and config keys: chosen at create, changed with PATCH, read by every member in /v1/config.
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { expectError } from "../../test/support/security-cases.ts";
import { createTestHub, type TestHub } from "../../test/support/test-hub-context.ts";

let hub: TestHub;
beforeEach(async () => {
  hub = await createTestHub();
});
afterEach(() => hub.close());

const ALL = ["groups", "lists", "domains", "clients", "dns.hosts", "dns.cnameRecords"];

describe("a Pi-hole share's items", () => {
  test("default to every item and no config key, and a folder share has none", async () => {
    const created = await hub.adminJson("POST", "/v1/admin/shares", { name: "dns", kind: "pihole" });
    expect(created).toMatchObject({ kind: "pihole", pihole: { sync: ALL, config: [] } });
    await hub.createShare("docs");
    const listed = (await hub.adminJson("GET", "/v1/admin/shares")) as { shares: Record<string, unknown>[] };
    expect(listed.shares.find((s) => s.name === "dns")?.pihole).toEqual({ sync: ALL, config: [] });
    expect(listed.shares.find((s) => s.name === "docs")).not.toHaveProperty("pihole");
  });

  test("are kept as created, deduplicated and sorted, and every member reads them in its config", async () => {
    await hub.adminJson("POST", "/v1/admin/shares", {
      name: "dns",
      kind: "pihole",
      pihole: { sync: ["domains", "groups", "domains"], config: ["dns.upstreams", "dns.queryLogging"] },
    });
    const items = { sync: ["domains", "groups"], config: ["dns.queryLogging", "dns.upstreams"] };
    expect(await hub.adminJson("GET", "/v1/admin/shares/dns")).toMatchObject({ pihole: items });
    const device = await hub.enroll(await hub.mintToken([{ name: "dns", role: "replica" }]));
    const config = (await (await hub.deviceFetch(device, "GET", "/v1/config")).json()) as {
      shares: Record<string, unknown>[];
    };
    expect(config.shares[0]).toMatchObject({ name: "dns", kind: "pihole", pihole: items });
  });

  test.each([
    [{ config: ["webserver.port"] }, /config key "webserver.port" is host-specific \(webserver\)/],
    [{ config: ["webserver"] }, /is host-specific/],
    [{ config: ["files.gravity"] }, /is host-specific \(files\)/],
    [{ config: ["dns.interface"] }, /is host-specific \(dns.interface\)/],
    [{ config: ["webserver.api.pwhash"] }, /is a password, hash or secret/],
    [{ config: ["dns.hosts"] }, /is a sync item/],
    [{ config: ["dns; rm -rf"] }, /is not a dotted pihole.toml key/],
    [{ sync: [] }, /name at least one item/],
    [{ sync: ["dhcp"] }, /use some of groups, lists, domains/],
  ])("refuse %j with 422 and the reason", async (pihole, reason) => {
    await expectError(
      await hub.admin("POST", "/v1/admin/shares", { name: "dns", kind: "pihole", pihole }),
      422,
      "invalid",
      reason,
    );
    await expectError(await hub.admin("GET", "/v1/admin/shares/dns"), 404, "not_found", /does not exist/);
  });

  test("belong to Pi-hole shares only", async () => {
    await expectError(
      await hub.admin("POST", "/v1/admin/shares", { name: "docs", pihole: { sync: ["groups"] } }),
      422,
      "invalid",
      /share "docs" is a folder share: Pi-hole items and config keys belong to --kind pihole/,
    );
    await hub.createShare("docs");
    await expectError(
      await hub.admin("PATCH", "/v1/admin/shares/docs", { pihole: { sync: ["groups"] } }),
      422,
      "invalid",
      /share "docs" is a folder share/,
    );
  });

  test("change with PATCH, one list at a time, the other list kept", async () => {
    await hub.adminJson("POST", "/v1/admin/shares", { name: "dns", kind: "pihole" });
    expect(
      await hub.adminJson("PATCH", "/v1/admin/shares/dns", { pihole: { config: ["dns.upstreams"] } }),
    ).toEqual({ name: "dns", pihole: { sync: ALL, config: ["dns.upstreams"] } });
    expect(await hub.adminJson("PATCH", "/v1/admin/shares/dns", { pihole: { sync: ["lists"] } })).toEqual({
      name: "dns",
      pihole: { sync: ["lists"], config: ["dns.upstreams"] },
    });
    expect(await hub.adminJson("GET", "/v1/admin/shares/dns")).toMatchObject({
      pihole: { sync: ["lists"], config: ["dns.upstreams"] },
    });
    await expectError(
      await hub.admin("PATCH", "/v1/admin/shares/dns", { pihole: {} }),
      422,
      "invalid",
      /name the items \(sync\) or the config keys \(config\) to set/,
    );
    await expectError(
      await hub.admin("PATCH", "/v1/admin/shares/nope", { pihole: { sync: ["lists"] } }),
      404,
      "not_found",
      /share "nope" does not exist/,
    );
  });
});
