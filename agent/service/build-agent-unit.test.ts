import { describe, expect, test } from "vitest";
import { buildAgentUnit } from "./build-agent-unit.ts";

const base = {
  command: ["/usr/local/bin/fleetsync"],
  stateDir: "/var/lib/fleetsync-agent",
  sharePaths: ["/etc/nginx"],
};

/** The value of the one `key=` line in a unit. */
function setting(unit: string, key: string): string | undefined {
  return unit
    .split("\n")
    .find((line) => line.startsWith(`${key}=`))
    ?.slice(key.length + 1);
}

describe("buildAgentUnit", () => {
  test("runs the given command as `agent run --state DIR` and restarts it on failure", () => {
    const unit = buildAgentUnit(base);
    expect(setting(unit, "ExecStart")).toBe(
      "/usr/local/bin/fleetsync agent run --state /var/lib/fleetsync-agent",
    );
    expect(setting(unit, "Restart")).toBe("on-failure");
    expect(setting(unit, "WantedBy")).toBe("multi-user.target");
  });

  test("runs the agent with glibc's mmap threshold fixed and no heap padding, so memory it freed goes back to the system", () => {
    const unit = buildAgentUnit(base);
    expect(unit.split("\n").filter((line) => line.startsWith("Environment="))).toEqual([
      "Environment=MALLOC_MMAP_THRESHOLD_=8192",
      "Environment=MALLOC_TOP_PAD_=0",
    ]);
    // In [Service], where systemd reads it.
    expect(unit.indexOf("Environment=")).toBeGreaterThan(unit.indexOf("[Service]"));
    expect(unit.indexOf("Environment=")).toBeLessThan(unit.indexOf("[Install]"));
  });

  test("lets the service write only to the state dir and the share folders, each share folder once", () => {
    const unit = buildAgentUnit({ ...base, sharePaths: ["/etc/nginx", "/srv/media", "/etc/nginx"] });
    expect(setting(unit, "ProtectSystem")).toBe("strict");
    expect(setting(unit, "NoNewPrivileges")).toBe("yes");
    expect(setting(unit, "PrivateTmp")).toBe("yes");
    expect(setting(unit, "ReadWritePaths")).toBe("/var/lib/fleetsync-agent -/etc/nginx -/srv/media");
  });

  test("quotes paths with spaces and doubles % so systemd reads them back as written", () => {
    const unit = buildAgentUnit({
      command: ["/opt/my apps/fleetsync"],
      stateDir: "/var/lib/fs 100%",
      sharePaths: ['/srv/a "b"'],
    });
    expect(setting(unit, "ExecStart")).toBe('"/opt/my apps/fleetsync" agent run --state "/var/lib/fs 100%%"');
    expect(setting(unit, "ReadWritePaths")).toBe('"/var/lib/fs 100%%" "-/srv/a \\"b\\""');
  });

  test("as a user it drops every capability; as root it keeps only the file-ownership ones", () => {
    expect(setting(buildAgentUnit({ ...base, user: "pi" }), "User")).toBe("pi");
    expect(setting(buildAgentUnit({ ...base, user: "pi" }), "CapabilityBoundingSet")).toBe("");
    expect(setting(buildAgentUnit(base), "User")).toBeUndefined();
    expect(setting(buildAgentUnit(base), "CapabilityBoundingSet")).toBe(
      "CAP_CHOWN CAP_DAC_OVERRIDE CAP_FOWNER CAP_FSETID",
    );
  });

  test("forbids creating setuid files unless a share replicates special mode bits", () => {
    expect(setting(buildAgentUnit(base), "RestrictSUIDSGID")).toBe("yes");
    expect(
      setting(buildAgentUnit({ ...base, allowSpecialModeBits: true }), "RestrictSUIDSGID"),
    ).toBeUndefined();
  });
});
