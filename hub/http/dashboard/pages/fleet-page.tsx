/** @jsxImportSource hono/jsx */
// The fleet at a glance: every share with its members by status, every device, problems first.
import type { readFleet } from "../../../services/dashboard-fleet.ts";
import { formatAgo, isoOrEmpty, statusClass } from "../format.ts";

type Fleet = Awaited<ReturnType<typeof readFleet>>;

const COUNTED = ["up to date", "syncing", "behind", "erroring", "offline", "pending"] as const;

export function FleetPage(props: { fleet: Fleet }) {
  const { shares, devices, nowMs } = props.fleet;
  return (
    <>
      <h1>Fleet</h1>
      <h2>Shares</h2>
      {shares.length === 0 ? (
        <p class="muted">No shares yet. Create one: fleetsync share create NAME</p>
      ) : (
        <div class="table">
          <table>
            <thead>
              <tr>
                <th>share</th>
                <th>kind</th>
                <th>head</th>
                <th>members</th>
                {COUNTED.map((s) => (
                  <th>{s}</th>
                ))}
              </tr>
            </thead>
            <tbody>
              {shares.map((s) => (
                <tr data-share={s.name}>
                  <td>
                    <a href={`/shares/${encodeURIComponent(s.name)}`}>{s.name}</a>{" "}
                    <span class={statusClass(s.worst)}>{s.worst}</span>
                  </td>
                  <td>{s.kind}</td>
                  <td data-head>{s.head}</td>
                  <td>{s.members}</td>
                  {COUNTED.map((st) => (
                    <td
                      class={
                        s.counts[st] > 0 && st !== "up to date" && st !== "syncing" ? statusClass(st) : ""
                      }
                    >
                      {s.counts[st]}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <h2>Devices</h2>
      {devices.length === 0 ? (
        <p class="muted">
          No devices yet. Mint a token on the Tokens page and run the enroll command on the device.
        </p>
      ) : (
        <div class="table">
          <table>
            <thead>
              <tr>
                <th>device</th>
                <th>state</th>
                <th>online</th>
                <th>last seen</th>
                <th>version</th>
                <th>shares</th>
              </tr>
            </thead>
            <tbody>
              {devices.map((d) => (
                <tr data-device={d.id}>
                  <td>
                    <a href={`/devices/${encodeURIComponent(d.id)}`}>{d.name}</a>
                    <div class="muted">
                      <code>{d.id}</code>
                    </div>
                  </td>
                  <td>
                    <span class={statusClass(d.state)}>{d.state}</span>
                  </td>
                  <td>
                    {d.state === "revoked" || d.state === "denied" ? (
                      <span class="muted">—</span>
                    ) : (
                      <span class={statusClass(d.online ? "online" : "offline")}>
                        {d.online ? "online" : "offline"}
                      </span>
                    )}
                  </td>
                  <td>
                    <time datetime={isoOrEmpty(d.lastSeenAt)}>{formatAgo(d.lastSeenAt, nowMs)}</time>
                  </td>
                  <td>{d.agentVersion ?? <span class="muted">not reported</span>}</td>
                  <td>
                    {d.shares.map((m) => (
                      <div>
                        {m.name}:{m.role} <span class={statusClass(m.status)}>{m.status}</span>
                        {m.lastError ? <div class="error">{m.lastError}</div> : null}
                      </div>
                    ))}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
