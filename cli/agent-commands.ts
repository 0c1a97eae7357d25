// Agent commands: enroll this device, run the daemon, show per-share status, install it as a service (each loads only what it needs).
import { execFile } from "node:child_process";
import { isAbsolute, resolve } from "node:path";
import { parseArgs, promisify } from "node:util";
import { checkHubUrl } from "./check-hub-url.ts";
import { UsageError } from "./cli-error.ts";
import { formatTable } from "./format-table.ts";
import { acquireProcessLock, readLockState } from "./process-lock.ts";

/** `--user` names an account systemd can run the service as. */
async function checkUserExists(user: string): Promise<void> {
  await promisify(execFile)("id", ["-u", user]).catch(() => {
    throw new UsageError(
      `--user ${user}: no such user on this machine; create it (sudo useradd --system ${user}) or leave --user out to run as root`,
    );
  });
}

type Subcommand = { help: string; run(args: string[], env: NodeJS.ProcessEnv): Promise<number> };

/** `SHARE=VALUE` as typed after `--flag`, split at the first "=" (both sides non-empty). */
function splitSharePair(flag: string, item: string, what: string): [string, string] {
  const eq = item.indexOf("=");
  if (eq <= 0 || eq === item.length - 1) throw new UsageError(`--${flag} ${item}: expected SHARE=${what}`);
  return [item.slice(0, eq), item.slice(eq + 1)];
}

export const AGENT_COMMANDS: Record<string, Subcommand> = {
  enroll: {
    help: `Usage: fleetsync agent enroll --hub URL --token TOKEN --state DIR [--name NAME] [--path SHARE=DIR ...]
                             [--pihole SHARE=URL --pihole-password-file SHARE=FILE ...] [--force]

Enrolls this machine: generates its Ed25519 key pair (the private key stays in DIR, mode 0600),
trades the token for a device identity, pins the hub's keys and writes DIR/agent.yaml.
Checked before the token is spent: DIR and the share folders must not lie inside one another;
a source's folder must exist (a replica's is created, mode 0755); DIR must not hold an identity yet.

Options:
  --hub URL          the hub, with its scheme, e.g. http://hub.lan:8787
  --token TOKEN      a single-use token from 'fleetsync token create'
  --state DIR        where this agent keeps its identity, config and state (outside every share folder)
  --name NAME        how the hub lists this device (default: the token's --label, else the host name)
  --path SHARE=DIR   the local folder of a share (repeatable; editable later in agent.yaml)
  --pihole SHARE=URL the Pi-hole of a Pi-hole share, on this machine (loopback), e.g. http://127.0.0.1:80
  --pihole-password-file SHARE=FILE
                     a file holding that Pi-hole's web or app password (it never leaves this machine)
  --force            replace the identity DIR already holds; then revoke the old device on the hub

Example:
  npx fleetsync agent enroll --hub http://192.0.2.10:8787 --token eyJ... --state /var/lib/fleetsync-agent --path configs=/etc/myapp`,
    async run(args) {
      const { values } = parseArgs({
        args,
        options: {
          hub: { type: "string" },
          token: { type: "string" },
          state: { type: "string" },
          name: { type: "string" },
          path: { type: "string", multiple: true },
          pihole: { type: "string", multiple: true },
          "pihole-password-file": { type: "string", multiple: true },
          force: { type: "boolean", default: false },
          json: { type: "boolean", default: false },
          help: { type: "boolean", short: "h", default: false },
        },
      });
      if (values.help) {
        console.log(AGENT_COMMANDS.enroll!.help);
        return 0;
      }
      if (!values.hub || !values.token || !values.state)
        throw new UsageError("agent enroll needs --hub, --token and --state; see --help");
      checkHubUrl(values.hub);
      const paths: Record<string, string> = {};
      for (const item of values.path ?? []) {
        const [share, dir] = splitSharePair("path", item, "DIR");
        paths[share] = dir;
      }
      const pihole: Record<string, { url?: string; passwordFile?: string }> = {};
      for (const item of values.pihole ?? []) {
        const [share, url] = splitSharePair("pihole", item, "URL");
        pihole[share] = { ...pihole[share], url };
      }
      for (const item of values["pihole-password-file"] ?? []) {
        const [share, file] = splitSharePair("pihole-password-file", item, "FILE");
        pihole[share] = { ...pihole[share], passwordFile: resolve(file) };
      }
      const { enrollDevice } = await import("../agent/enroll-device.ts");
      // Held while enrolling: no agent may run on a state dir whose identity is being written.
      const lock = await acquireProcessLock({ kind: "agent", dir: resolve(values.state) });
      const result = await enrollDevice({
        hub: values.hub,
        token: values.token,
        stateDir: values.state,
        name: values.name,
        paths,
        pihole,
        force: values.force,
      }).finally(() => lock.release());
      const revoke = result.replaced
        ? `replaced device ${result.replaced.deviceId} ("${result.replaced.name}"), which the hub still lists; revoke it: fleetsync device revoke ${result.replaced.deviceId}`
        : undefined;
      if (values.json)
        console.log(
          JSON.stringify({
            deviceId: result.deviceId,
            name: result.name,
            shares: result.shares,
            ...(result.replaced ? { replaced: result.replaced } : {}),
          }),
        );
      else {
        const shares = result.shares
          .map((s) => `${s.name}:${s.role}${paths[s.name] ? `→${paths[s.name]}` : ""}`)
          .join(", ");
        console.log(
          `enrolled "${result.name}" as ${result.deviceId} at ${values.hub}; shares: ${shares}; config: ${result.stateDir}/agent.yaml`,
        );
      }
      if (revoke) process.stderr.write(`fleetsync: ${revoke}\n`);
      return 0;
    },
  },
  run: {
    help: `Usage: fleetsync agent run --state DIR

Runs the agent until SIGINT/SIGTERM: watches source shares and reports changes, applies the hub's
signed instructions on replica shares. Settings live in DIR/agent.yaml.
One agent per state dir: a second one refuses to start, naming the first (its pid is in DIR/agent.pid).
Refuses share folders that lie inside one another or the state dir. A share whose task fails is
logged with its name and restarted after a backoff; the other shares carry on.

Example:
  npx fleetsync agent run --state /var/lib/fleetsync-agent`,
    async run(args) {
      const { values } = parseArgs({
        args,
        options: { state: { type: "string" }, help: { type: "boolean", short: "h", default: false } },
      });
      if (values.help) {
        console.log(AGENT_COMMANDS.run!.help);
        return 0;
      }
      if (!values.state) throw new UsageError("agent run needs --state DIR; see --help");
      const lock = await acquireProcessLock({
        kind: "agent",
        dir: resolve(values.state),
        pidFile: "agent.pid",
      });
      const controller = new AbortController();
      const stop = () => controller.abort();
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
      try {
        const { runAgent } = await import("../agent/daemon.ts");
        await runAgent(values.state, controller.signal);
      } finally {
        await lock.release();
      }
      return 0;
    },
  },
  status: {
    help: `Usage: fleetsync agent status --state DIR [--json]

Whether the agent runs on DIR (pid and start time), then per share: role, root, files, bytes,
last change reported or applied, cursor against the hub's head (lag, also in files and bytes where
the hub reports them), and the last error. Asking the hub does not count as the device being seen.

Example:
  npx fleetsync agent status --state /var/lib/fleetsync-agent`,
    async run(args) {
      const { values } = parseArgs({
        args,
        options: {
          state: { type: "string" },
          json: { type: "boolean", default: false },
          help: { type: "boolean", short: "h", default: false },
        },
      });
      if (values.help) {
        console.log(AGENT_COMMANDS.status!.help);
        return 0;
      }
      if (!values.state) throw new UsageError("agent status needs --state DIR; see --help");
      const { agentStatus } = await import("../agent/status.ts");
      const lock = await readLockState("agent", values.state);
      const status = await agentStatus(values.state, {
        running: lock.running,
        ...(lock.running && lock.holder ? { pid: lock.holder.pid, since: lock.holder.startedAt } : {}),
      });
      if (values.json) console.log(JSON.stringify(status, null, 2));
      else {
        console.log(
          `device ${status.deviceId} (${status.name}) → ${status.hub}${status.hubError ? ` [hub: ${status.hubError}]` : ""}`,
        );
        const { agent } = status;
        console.log(
          agent.running
            ? `agent running${agent.pid ? ` (pid ${agent.pid}, since ${agent.since})` : ""}`
            : `agent not running; start it: fleetsync agent run --state ${values.state}`,
        );
        console.log(
          formatTable(
            ["SHARE", "ROLE", "ROOT", "FILES", "BYTES", "LAST CHANGE", "CURSOR", "HEAD", "LAG", "LAST ERROR"],
            status.shares.map((s) => [
              s.name,
              s.role,
              s.root,
              s.files,
              s.bytes,
              s.lastChangeAt,
              s.cursor,
              s.head,
              s.lag === null || s.lagFiles === null
                ? s.lag
                : `${s.lag} (${s.lagFiles} files, ${s.lagBytes ?? 0} B)`,
              s.lastError,
            ]),
          ),
        );
        for (const s of status.shares) {
          if (s.progress) {
            console.log(
              `${s.name}: ${s.progress.direction === "sending" ? "uploading" : "syncing"}, ${s.progress.doneFiles}/${s.progress.totalFiles} files, ${s.progress.doneBytes}/${s.progress.totalBytes} B${s.progress.secondsLeft === null ? "" : `, about ${s.progress.secondsLeft} s left`}`,
            );
          }
          if (s.conflictCopies.length > 0) {
            console.log(
              `${s.name}: ${s.conflictCopies.length} conflict copies: ${s.conflictCopies.join(", ")}`,
            );
          }
        }
      }
      return 0;
    },
  },
  install: {
    help: `Usage: fleetsync agent install --state DIR [--user USER] [--dry-run]

Installs the agent as a systemd service (fleetsync-agent.service): writes the unit to
/etc/systemd/system, reloads systemd, enables it at boot and starts it. Needs root.
The unit runs the executable, or node with the bundled agent (dist/fleetsync-agent.cjs from
'npm run build', used only when built from the sources as they are) as 'agent run --state DIR',
restarts it on failure, and sandboxes it: the whole file system read-only (ProtectSystem=strict) except
DIR and the share folders agent.yaml names (ReadWritePaths), no new privileges, a private /tmp.
After editing agent.yaml's share folders, run install again so the unit follows.
Stop any agent you started by hand on DIR first: one agent per state dir.

Options:
  --state DIR   the enrolled state dir (holds agent.yaml)
  --user USER   run the service as USER instead of root (USER must be able to write DIR and the shares)
  --dry-run     print the unit and the steps, change nothing

Example:
  sudo fleetsync agent install --state /var/lib/fleetsync-agent`,
    async run(args) {
      const { values } = parseArgs({
        args,
        options: {
          state: { type: "string" },
          user: { type: "string" },
          "dry-run": { type: "boolean", default: false },
          help: { type: "boolean", short: "h", default: false },
        },
      });
      if (values.help) {
        console.log(AGENT_COMMANDS.install!.help);
        return 0;
      }
      if (!values.state) throw new UsageError("agent install needs --state DIR; see --help");
      const stateDir = resolve(values.state);
      const { loadAgentConfig, resolveShares } = await import("../agent/config/agent-config.ts");
      const { buildAgentUnit } = await import("../agent/service/build-agent-unit.ts");
      const { installSteps, runServiceSteps } = await import("../agent/service/install-agent-service.ts");
      const shares = resolveShares(await loadAgentConfig(stateDir));
      const { isSea } = await import("node:sea");
      const { agentServiceCommand } = await import("../agent/service/agent-service-command.ts");
      // The unit runs the single executable, or node with the bundled agent when it matches the sources.
      const chosen = await agentServiceCommand({
        isSea: isSea(),
        execPath: process.execPath,
        script: resolve(process.argv[1] ?? ""),
      });
      if (chosen.warning) process.stderr.write(`fleetsync: warning: ${chosen.warning}\n`);
      const command = chosen.command;
      // A share without a folder yet is not synced, so it needs no access; a relative one would resolve
      // against the service's working directory (/), not where it was written.
      const sharePaths = shares.filter((s) => s.path !== "").map((s) => s.path);
      const relative = shares.find((s) => s.path !== "" && !isAbsolute(s.path));
      if (relative)
        throw new UsageError(
          `share "${relative.name}": path "${relative.path}" in ${stateDir}/agent.yaml is relative; write it as an absolute path, then run agent install again`,
        );
      if (values.user) await checkUserExists(values.user);
      const unit = buildAgentUnit({
        command,
        stateDir,
        sharePaths,
        ...(values.user ? { user: values.user } : {}),
        allowSpecialModeBits: shares.some((s) => s.specialModeBits),
      });
      const steps = installSteps(unit);
      if (values["dry-run"]) {
        process.stdout.write(unit);
        process.stderr.write(`fleetsync: dry run; would ${steps.map((s) => s.describe).join(", then ")}\n`);
        return 0;
      }
      if (process.getuid?.() !== 0)
        throw new UsageError("agent install writes /etc/systemd/system and needs root: run it with sudo");
      await runServiceSteps(steps);
      console.log("installed and started fleetsync-agent.service; logs: journalctl -u fleetsync-agent -f");
      return 0;
    },
  },
  uninstall: {
    help: `Usage: fleetsync agent uninstall [--dry-run]

Stops and disables fleetsync-agent.service and removes its unit file. Leaves the state dir, its
identity and the share folders alone (the device stays enrolled; revoke it on the hub to retire it).

Example:
  sudo fleetsync agent uninstall`,
    async run(args) {
      const { values } = parseArgs({
        args,
        options: {
          "dry-run": { type: "boolean", default: false },
          help: { type: "boolean", short: "h", default: false },
        },
      });
      if (values.help) {
        console.log(AGENT_COMMANDS.uninstall!.help);
        return 0;
      }
      const { runServiceSteps, uninstallSteps } = await import("../agent/service/install-agent-service.ts");
      const steps = uninstallSteps();
      if (values["dry-run"]) {
        console.log(`dry run; would ${steps.map((s) => s.describe).join(", then ")}`);
        return 0;
      }
      if (process.getuid?.() !== 0)
        throw new UsageError("agent uninstall changes /etc/systemd/system and needs root: run it with sudo");
      await runServiceSteps(steps);
      console.log("stopped, disabled and removed fleetsync-agent.service");
      return 0;
    },
  },
};
