// Agent commands: enroll this device, run the daemon, show per-share status (each loads only what it needs).
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { checkHubUrl } from "./check-hub-url.ts";
import { UsageError } from "./cli-error.ts";
import { formatTable } from "./format-table.ts";
import { acquireProcessLock, readLockState } from "./process-lock.ts";

type Subcommand = { help: string; run(args: string[], env: NodeJS.ProcessEnv): Promise<number> };

export const AGENT_COMMANDS: Record<string, Subcommand> = {
  enroll: {
    help: `Usage: fleetsync agent enroll --hub URL --token TOKEN --state DIR [--name NAME] [--path SHARE=DIR ...] [--force]

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
        const eq = item.indexOf("=");
        if (eq <= 0 || eq === item.length - 1) throw new UsageError(`--path ${item}: expected SHARE=DIR`);
        paths[item.slice(0, eq)] = item.slice(eq + 1);
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
      }
      return 0;
    },
  },
};
