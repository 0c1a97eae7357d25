// Installs or removes the agent's systemd unit: writes it, reloads systemd, enables and starts it (or the reverse).
import { execFile } from "node:child_process";
import { rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { FleetsyncError } from "../../shared/errors/fleetsync-error.ts";
import { AGENT_UNIT_NAME } from "./build-agent-unit.ts";

const run = promisify(execFile);

export const SYSTEMD_UNIT_DIR = "/etc/systemd/system";

export type ServiceStep = { describe: string; act: () => Promise<void> };

/** The steps that install `unitText`: each says what it does, so --dry-run and errors can name it. */
export function installSteps(unitText: string, unitDir = SYSTEMD_UNIT_DIR): ServiceStep[] {
  const file = join(unitDir, AGENT_UNIT_NAME);
  return [
    { describe: `write ${file}`, act: () => writeFile(file, unitText, { mode: 0o644 }) },
    { describe: "systemctl daemon-reload", act: () => systemctl(["daemon-reload"]) },
    {
      describe: `systemctl enable --now ${AGENT_UNIT_NAME}`,
      act: () => systemctl(["enable", "--now", AGENT_UNIT_NAME]),
    },
  ];
}

/** The steps that stop, disable and remove the unit; a unit already gone is not an error. */
export function uninstallSteps(unitDir = SYSTEMD_UNIT_DIR): ServiceStep[] {
  const file = join(unitDir, AGENT_UNIT_NAME);
  return [
    {
      describe: `systemctl disable --now ${AGENT_UNIT_NAME}`,
      act: () => systemctl(["disable", "--now", AGENT_UNIT_NAME]).catch(() => undefined),
    },
    { describe: `remove ${file}`, act: () => rm(file, { force: true }) },
    { describe: "systemctl daemon-reload", act: () => systemctl(["daemon-reload"]) },
  ];
}

/** Runs the steps in order; the first failure names its step and what to do. */
export async function runServiceSteps(steps: ServiceStep[]): Promise<void> {
  for (const step of steps) {
    try {
      await step.act();
    } catch (error) {
      const reason = (error as { stderr?: string }).stderr?.trim() || (error as Error).message;
      throw new FleetsyncError(
        "internal",
        `could not ${step.describe}: ${reason}; run it as root on a machine with systemd (or use --dry-run to see the unit)`,
        { cause: error },
      );
    }
  }
}

async function systemctl(args: string[]): Promise<void> {
  await run("systemctl", args);
}
