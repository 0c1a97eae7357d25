// The agent's systemd unit: a sandboxed service that may write only to its state dir and its share folders.
import { AGENT_SERVICE_ENVIRONMENT } from "./agent-service-environment.ts";

export const AGENT_UNIT_NAME = "fleetsync-agent.service";

export type BuildAgentUnitOptions = {
  /** The command that runs the CLI: the executable, or node and the CLI script. Absolute paths. */
  command: string[];
  /** Absolute state dir. */
  stateDir: string;
  /** Absolute share folders from agent.yaml. */
  sharePaths: string[];
  /** Run as this user instead of root. */
  user?: string;
  /** A share replicates setuid/setgid bits: the unit must then allow creating such files. */
  allowSpecialModeBits?: boolean;
};

/** A unit file's text; every path is quoted and escaped for systemd, so spaces and `%` are safe. */
export function buildAgentUnit(options: BuildAgentUnitOptions): string {
  const { command, stateDir, sharePaths, user } = options;
  const execStart = [...command, "agent", "run", "--state", stateDir].map(quote).join(" ");
  // "-": a share folder missing at start (a disk not mounted yet) must not keep the agent from starting; the
  // agent reports that share as missing and carries on with the rest.
  const writable = [quote(stateDir), ...[...new Set(sharePaths)].map((p) => quote(`-${p}`))];
  const lines = [
    "# Written by `fleetsync agent install`; remove with `fleetsync agent uninstall`.",
    "[Unit]",
    "Description=fleetsync agent (replicates this machine's shares with the hub)",
    "Wants=network-online.target",
    "After=network-online.target",
    "",
    "[Service]",
    "Type=simple",
    `ExecStart=${execStart}`,
    ...Object.entries(AGENT_SERVICE_ENVIRONMENT).map(([name, value]) => `Environment=${name}=${value}`),
    ...(user ? [`User=${user}`] : []),
    "Restart=on-failure",
    "RestartSec=5s",
    // SIGTERM stops the shares cleanly; the agent finishes the file it is writing first.
    "KillSignal=SIGTERM",
    "TimeoutStopSec=30s",
    "UMask=0022",
    "NoNewPrivileges=yes",
    "ProtectSystem=strict",
    "ProtectHome=read-only",
    `ReadWritePaths=${writable.join(" ")}`,
    "PrivateTmp=yes",
    "PrivateDevices=yes",
    "ProtectKernelTunables=yes",
    "ProtectKernelModules=yes",
    "ProtectKernelLogs=yes",
    "ProtectControlGroups=yes",
    "ProtectClock=yes",
    "ProtectHostname=yes",
    "RestrictNamespaces=yes",
    "RestrictRealtime=yes",
    ...(options.allowSpecialModeBits ? [] : ["RestrictSUIDSGID=yes"]),
    "LockPersonality=yes",
    "SystemCallArchitectures=native",
    "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6",
    // As root it keeps only what writing other users' files needs; as a user, nothing.
    `CapabilityBoundingSet=${user ? "" : "CAP_CHOWN CAP_DAC_OVERRIDE CAP_FOWNER CAP_FSETID"}`,
    "",
    "[Install]",
    "WantedBy=multi-user.target",
    "",
  ];
  return lines.join("\n");
}

/** One word for systemd: `%` doubled (specifiers), quoted when it holds a space, quote or backslash. */
function quote(word: string): string {
  const escaped = word.replaceAll("%", "%%");
  if (!/[\s"'\\]/.test(escaped)) return escaped;
  return `"${escaped.replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"`;
}
