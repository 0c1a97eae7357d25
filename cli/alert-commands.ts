// `fleetsync alert add|list|remove`: webhooks (or ntfy topics) the hub calls on error, offline, conflict, recovered.
import { parseDurationMs } from "../shared/time/parse-duration.ts";
import { adminRequest } from "./admin-client.ts";
import { ADMIN_FLAGS_HELP, adminCommand, one, print, type Subcommand } from "./admin-commands.ts";
import { UsageError } from "./cli-error.ts";
import { formatTable } from "./format-table.ts";

const EVENTS = ["error", "offline", "conflict", "recovered"];

type AlertRow = { id: string; url: string; on: string[]; offlineAfterSeconds: number; createdAt: string };

function formatSeconds(seconds: number): string {
  if (seconds % 3600 === 0) return `${seconds / 3600}h`;
  if (seconds % 60 === 0) return `${seconds / 60}m`;
  return `${seconds}s`;
}

export const ALERT_COMMANDS: Record<string, Subcommand> = {
  add: adminCommand(
    `Usage: fleetsync alert add --url URL [--on error,offline,conflict,recovered] [--offline-after 5m]

Makes the hub POST an event to URL whenever a device fails to apply changes (error, with the agent's
reason), is silent longer than --offline-after (offline, 1m to 30d), a conflict is recorded, or a problem
clears (recovered). Default: all four events, --offline-after 5m. The body is JSON
{ what, share, device: { id, name }, why, when, hubId, alertId }, or plain text for an ntfy topic
(https://ntfy.sh/TOPIC or an ntfy.* host). Failed deliveries are retried; each alert sends at most
30 events a minute.
${ADMIN_FLAGS_HELP}

Example:
  npx fleetsync alert add --url https://ntfy.sh/my-fleet --on error,offline --offline-after 10m`,
    { url: { type: "string" }, on: { type: "string" }, "offline-after": { type: "string" } },
    async (admin, values) => {
      const url = values.url as string | undefined;
      if (!url) throw new UsageError("name the URL to call: --url https://…");
      if (!/^https?:\/\//.test(url) || !URL.canParse(url))
        throw new UsageError(`--url ${url}: use an http(s) URL, e.g. https://ntfy.sh/my-fleet`);
      const on =
        values.on === undefined
          ? undefined
          : String(values.on)
              .split(",")
              .map((s) => s.trim());
      const unknown = on?.find((e) => !EVENTS.includes(e));
      if (unknown !== undefined)
        throw new UsageError(`--on ${String(values.on)}: "${unknown}" is not one of ${EVENTS.join(", ")}`);
      const offlineAfter = values["offline-after"] as string | undefined;
      if (offlineAfter !== undefined && parseDurationMs(offlineAfter) === undefined)
        throw new UsageError(`--offline-after ${offlineAfter}: use a duration such as 5m, 1h or 1d`);
      const answer = (await adminRequest(admin, "POST", "/v1/admin/alerts", {
        url,
        ...(on ? { on } : {}),
        ...(offlineAfter ? { offlineAfter } : {}),
      })) as AlertRow;
      print(
        values.json as boolean,
        answer,
        () =>
          `alert ${answer.id} added: ${answer.on.join(",")} → ${answer.url} (offline after ${formatSeconds(answer.offlineAfterSeconds)})`,
      );
      return 0;
    },
  ),
  list: adminCommand(
    `Usage: fleetsync alert list [--json]

Lists alerts: id, events, offline limit, URL.
${ADMIN_FLAGS_HELP}

Example:
  npx fleetsync alert list`,
    {},
    async (admin, values) => {
      const answer = (await adminRequest(admin, "GET", "/v1/admin/alerts")) as { alerts: AlertRow[] };
      print(values.json as boolean, answer, () =>
        formatTable(
          ["ID", "ON", "OFFLINE AFTER", "URL"],
          answer.alerts.map((a) => [a.id, a.on.join(","), formatSeconds(a.offlineAfterSeconds), a.url]),
        ),
      );
      return 0;
    },
  ),
  remove: adminCommand(
    `Usage: fleetsync alert remove ID

Stops an alert: the hub calls its URL no more.
${ADMIN_FLAGS_HELP}

Example:
  npx fleetsync alert remove al_3f2a9c0d1e2b`,
    {},
    async (admin, values, positionals) => {
      const id = one(positionals, "alert id");
      const answer = await adminRequest(admin, "DELETE", `/v1/admin/alerts/${encodeURIComponent(id)}`);
      print(values.json as boolean, answer, () => `alert ${id} removed`);
      return 0;
    },
  ),
};
