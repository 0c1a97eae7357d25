/** @jsxImportSource hono/jsx */
// One device: state, shares and roles, history and errors; rename, approve or deny, revoke, remove.
import type { readDeviceDetail } from "../../../services/dashboard-device.ts";
import { formatAgo, formatBytes, statusClass } from "../format.ts";

type Detail = Awaited<ReturnType<typeof readDeviceDetail>>;

export function DevicePage(props: { detail: Detail; nowMs: number }) {
  const { device, shares, runs, errors, audit } = props.detail;
  const now = props.nowMs;
  const base = `/devices/${encodeURIComponent(device.id)}`;
  return (
    <>
      <h1>
        Device {device.name} <span class={statusClass(device.state)}>{device.state}</span>{" "}
        <span class={statusClass(device.online ? "online" : "offline")}>
          {device.online ? "online" : "offline"}
        </span>
      </h1>
      <p>
        <code>{device.id}</code> · agent {device.agentVersion ?? "version not reported"} · enrolled{" "}
        {formatAgo(device.enrolledAt, now)} · last seen {formatAgo(device.lastSeenAt, now)}
      </p>
      <div class="actions">
        {device.state === "pending" ? (
          <>
            <form class="inline" method="post" action={`${base}/approve`}>
              <button type="submit">Approve</button>
            </form>
            <form class="inline" method="post" action={`${base}/deny`}>
              <button type="submit" class="danger">
                Deny
              </button>
            </form>
          </>
        ) : null}
        <form class="inline" method="post" action={`${base}/rename`}>
          <label>
            name <input name="name" value={device.name} maxlength={128} required />
          </label>{" "}
          <button type="submit">Rename</button>
        </form>
        {device.state === "active" || device.state === "pending" ? (
          <form class="inline" method="post" action={`${base}/revoke`}>
            <button type="submit" class="danger">
              Revoke
            </button>
          </form>
        ) : null}
        <form class="inline" method="post" action={`${base}/remove`}>
          <button type="submit" class="danger">
            Remove
          </button>
        </form>
      </div>

      <h2>Shares</h2>
      {shares.length === 0 ? (
        <p class="muted">Member of no share.</p>
      ) : (
        <div class="table">
          <table>
            <thead>
              <tr>
                <th>share</th>
                <th>role</th>
                <th>status</th>
                <th>cursor / head</th>
                <th>last error</th>
              </tr>
            </thead>
            <tbody>
              {shares.map((m) => (
                <tr>
                  <td>
                    <a href={`/shares/${encodeURIComponent(m.share)}`}>{m.share}</a>
                  </td>
                  <td>{m.role}</td>
                  <td>
                    <span class={statusClass(m.status)}>{m.status}</span>
                  </td>
                  <td>
                    {m.cursor} / {m.head}
                  </td>
                  <td class="error">{m.lastError ?? ""}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}

      <h2>Errors</h2>
      {errors.length === 0 ? (
        <p class="muted">No failed runs recorded.</p>
      ) : (
        <ul>
          {errors.map((r) => (
            <li class="error">
              {r.share}, {formatAgo(r.at, now)}: {r.error ?? r.result}
            </li>
          ))}
        </ul>
      )}

      <h2>History</h2>
      <div class="table">
        <table>
          <thead>
            <tr>
              <th>when</th>
              <th>share</th>
              <th>kind</th>
              <th>seq</th>
              <th>files</th>
              <th>result</th>
            </tr>
          </thead>
          <tbody>
            {runs.map((r) => (
              <tr>
                <td>{formatAgo(r.at, now)}</td>
                <td>{r.share}</td>
                <td>{r.kind === "dry-run" ? "dry run" : r.kind}</td>
                <td>
                  {r.fromSeq}–{r.toSeq}
                </td>
                <td>
                  {r.files} ({formatBytes(r.bytes)})
                </td>
                <td>
                  <span class={statusClass(r.result)}>{r.result}</span>
                </td>
              </tr>
            ))}
            {audit.map((a) => (
              <tr>
                <td>{formatAgo(a.at, now)}</td>
                <td colspan={5}>
                  {a.action} by {a.actor}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}
