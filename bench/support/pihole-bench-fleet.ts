// Three real Pi-holes (a primary, N replicas) kept in step by a real hub and real agents, set up as a user would.
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  mintToken,
  type RunningProcess,
  runCli,
  startAgent,
  startHubProcess,
  type TestHub,
  updateAgentConfig,
  waitFor,
} from "../../test/support/fleet.ts";
import { type FtlInstance, startFtl } from "../../test/support/pihole.ts";
import { onInterrupt } from "./cleanup.ts";
import { type Reaper, reapAfterExit } from "./reap-after-exit.ts";

export const PIHOLE_SHARE = "dns";

export type PiholeBenchMember = {
  label: string;
  role: "source" | "replica";
  ftl: FtlInstance;
  stateDir: string;
  agent?: RunningProcess;
};

export type PiholeBenchFleet = {
  hub: TestHub;
  primary: PiholeBenchMember;
  replicas: PiholeBenchMember[];
  stop: () => Promise<void>;
};

export type PiholeBenchFleetOptions = {
  /** A temp directory of the scenario's own (it removes it): hub data, agent state dirs and password files go here. */
  base: string;
  replicas: number;
  debounceMs: number;
};

async function mustRun(args: string[]): Promise<string> {
  const { code, output } = await runCli(args);
  if (code !== 0) throw new Error(`fleetsync ${args[0]} ${args[1]} failed (exit ${code}): ${output}`);
  return output;
}

/**
 * FTL instances, hub, `share create --kind pihole`, `agent enroll --pihole …` per Pi-hole, agents started.
 * Resolves once every replica has applied the primary's first report; stop() (also run on Ctrl-C) ends it all.
 */
export async function startPiholeBenchFleet(options: PiholeBenchFleetOptions): Promise<PiholeBenchFleet> {
  const members: PiholeBenchMember[] = [];
  const ftls: FtlInstance[] = [];
  let hub: TestHub | undefined;
  let reaper: Reaper | undefined;
  let forget = () => {};
  let stopping: Promise<void> | undefined;
  // One stop for Ctrl-C and the scenario's own finally alike; a step that fails does not skip the next (FTL ignores
  // SIGINT, so an instance left behind would keep running).
  const stop = () => {
    stopping ??= (async () => {
      forget();
      await Promise.allSettled(members.map((m) => m.agent?.stop()));
      await Promise.allSettled([hub?.stop(), ...ftls.map((f) => f.remove())]);
      reaper?.dismiss();
    })();
    return stopping;
  };
  forget = onInterrupt(stop);
  try {
    const labels = ["primary", ...Array.from({ length: options.replicas }, (_, i) => `replica-${i + 1}`)];
    const started = await Promise.allSettled(labels.map((label) => startFtl({ password: `${label}-pw` })));
    for (const s of started) if (s.status === "fulfilled") ftls.push(s.value);
    reaper = reapAfterExit({
      pids: ftls.map((f) => f.process.pid),
      dirs: [...ftls.map((f) => f.dir), options.base],
    });
    const failure = started.find((s) => s.status === "rejected");
    if (failure) throw (failure as PromiseRejectedResult).reason;

    const hubData = join(options.base, "hub");
    await mkdir(hubData);
    hub = await startHubProcess(hubData);
    reaper.add([hub.proc.pid]);
    const admin = ["--hub", hub.url, "--admin-token", hub.adminToken];
    await mustRun(["share", "create", PIHOLE_SHARE, "--kind", "pihole", ...admin]);
    for (const [i, label] of labels.entries()) {
      const role = i === 0 ? "source" : "replica";
      const ftl = ftls[i]!;
      const stateDir = join(options.base, `agent-${label}`);
      const passwordFile = join(options.base, `${label}-password`);
      await writeFile(passwordFile, `${ftl.password}\n`, { mode: 0o600 });
      const token = await mintToken(hub, [{ name: PIHOLE_SHARE, role }]);
      await mustRun([
        "agent",
        "enroll",
        "--hub",
        hub.url,
        "--token",
        token,
        "--state",
        stateDir,
        "--name",
        label,
        "--pihole",
        `${PIHOLE_SHARE}=${ftl.url}`,
        "--pihole-password-file",
        `${PIHOLE_SHARE}=${passwordFile}`,
      ]);
      // Each instance's /etc/pihole is DIR/etc (a private mount namespace), so that is what the agent watches.
      await updateAgentConfig(stateDir, (config) => {
        config.defaults.debounceMs = options.debounceMs;
        const share = config.shares[PIHOLE_SHARE] as { pihole: Record<string, unknown> };
        share.pihole.configDir = join(ftl.dir, "etc");
      });
      members.push({ label, role, ftl, stateDir });
    }
    const [primary, ...replicas] = members as [PiholeBenchMember, ...PiholeBenchMember[]];
    /** Whether an agent has logged `line` yet; an agent that exited is an error saying what it printed. */
    const hasLogged = (m: PiholeBenchMember, line: string) => {
      if (m.agent!.proc.exitCode !== null) throw new Error(`${m.label}'s agent exited: ${m.agent!.output()}`);
      return m.agent!.output().includes(line);
    };
    for (const replica of replicas) replica.agent = startAgent(replica.stateDir);
    reaper.add(replicas.map((r) => r.agent!.proc.pid));
    for (const replica of replicas)
      await waitFor(() => hasLogged(replica, '"replica ready"'), {
        timeoutMs: 60_000,
        what: `${replica.label}'s agent to be ready`,
      });
    primary.agent = startAgent(primary.stateDir);
    reaper.add([primary.agent.proc.pid]);
    for (const replica of replicas)
      await waitFor(
        () => hasLogged(primary, '"agent started"') && hasLogged(replica, '"instruction applied"'),
        {
          timeoutMs: 120_000,
          intervalMs: 200,
          what: `${replica.label} to apply the primary's first report`,
        },
      );
    return { hub, primary, replicas, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
