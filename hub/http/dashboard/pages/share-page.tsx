/** @jsxImportSource hono/jsx */
// One share: members with cursor, lag and last error; recent changes; sync runs with their operations.
import type { readShareDetail } from "../../../services/dashboard-share.ts";
import { formatAgo, formatBytes, isoOrEmpty, statusClass } from "../format.ts";

type Detail = Awaited<ReturnType<typeof readShareDetail>>;

export function SharePage(props: { detail: Detail; nowMs: number }) {
  const { share, piholeItems, members, changes, runs, conflicts } = props.detail;
  const now = props.nowMs;
  return (
    <>
      <h1>
        Share {share.name} <span class="muted">({share.kind})</span>
      </h1>
      <p>
        head <strong data-head>{share.headSeq}</strong> · deletes {share.deletes} · conflicts{" "}
        {share.conflicts} · approval {share.approval} · storage <span data-storage>{share.storage}</span>
      </p>
      {piholeItems ? (
        <p data-pihole-items>
          syncs {piholeItems.sync.join(", ")} · config keys{" "}
          {piholeItems.config.length > 0 ? piholeItems.config.join(", ") : "none"}
        </p>
      ) : null}
      <h2>Members</h2>
      <div class="table">
        <table>
          <thead>
            <tr>
              <th>device</th>
              <th>role</th>
              <th>status</th>
              <th>cursor</th>
              <th>lag</th>
              <th>last applied</th>
              <th>last seen</th>
              <th>last error</th>
            </tr>
          </thead>
          <tbody>
            {members.map((m) => (
              <tr data-member={m.deviceId}>
                <td>
                  <a href={`/devices/${encodeURIComponent(m.deviceId)}`}>{m.deviceName}</a>
                </td>
                <td>
                  {m.role}
                  {m.dryRun ? " (dry run)" : ""}
                </td>
                <td>
                  <span class={statusClass(m.status)}>{m.status}</span>
                </td>
                <td data-cursor>{m.cursor}</td>
                <td>
                  {m.role === "source"
                    ? "—"
                    : `${m.lagOperations} ops, ${m.lagFiles} files, ${formatBytes(m.lagBytes)}`}
                </td>
                <td>
                  <time datetime={isoOrEmpty(m.role === "source" ? m.lastReportAt : m.lastApplyAt)}>
                    {formatAgo(m.role === "source" ? m.lastReportAt : m.lastApplyAt, now)}
                  </time>
                </td>
                <td>{formatAgo(m.lastSeenAt, now)}</td>
                <td class="error">{m.lastError ?? ""}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {members.length === 0 ? <p class="muted">No members yet: mint a token for this share.</p> : null}

      <h2>Recent changes</h2>
      {changes.length === 0 ? (
        <p class="muted">Nothing reported yet.</p>
      ) : (
        <div class="table">
          <table>
            <thead>
              <tr>
                <th>seq</th>
                <th>path</th>
                <th>type</th>
                <th>size</th>
                <th>when</th>
              </tr>
            </thead>
            <tbody id="changes">
              {changes.map((e) => (
                <tr data-path={e.path}>
                  <td>{e.seq}</td>
                  <td>
                    <code>{e.path}</code>
                  </td>
                  <td>{e.type}</td>
                  <td>{e.type === "file" ? formatBytes(e.size) : ""}</td>
                  <td>{formatAgo(e.updatedAt, now)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}

      <h2>Conflicts</h2>
      {conflicts.length === 0 ? (
        <p class="muted">None recorded.</p>
      ) : (
        <ul>
          {conflicts.map((c) => (
            <li>
              <code>{c.path}</code> ({c.action}) on {c.deviceId}, {formatAgo(c.at, now)}
            </li>
          ))}
        </ul>
      )}

      <h2>Sync runs</h2>
      {runs.length === 0 ? (
        <p class="muted">No sync runs yet.</p>
      ) : (
        <div class="table">
          <table>
            <thead>
              <tr>
                <th>when</th>
                <th>device</th>
                <th>kind</th>
                <th>seq</th>
                <th>result</th>
                <th>operations</th>
              </tr>
            </thead>
            <tbody>
              {runs.map((r) => (
                <tr data-run={r.id}>
                  <td>{formatAgo(r.at, now)}</td>
                  <td>{r.deviceName ?? r.deviceId}</td>
                  <td>
                    {r.kind === "dry-run" ? <span class={statusClass("dry-run")}>dry run</span> : r.kind}
                  </td>
                  <td>
                    {r.fromSeq}–{r.toSeq}
                  </td>
                  <td>
                    <span class={statusClass(r.result)}>{r.result}</span>
                    {r.error ? <div class="error">{r.error}</div> : null}
                  </td>
                  <td>
                    <details>
                      <summary>
                        {r.files} ({formatBytes(r.bytes)})
                      </summary>
                      <ul>
                        {r.ops.map((op) => (
                          <li class={op.ok ? "" : "error"}>
                            {op.action} <code>{op.path}</code>
                            {op.ok ? "" : `: ${op.error ?? "failed"}`}
                          </li>
                        ))}
                        {r.moreOps > 0 ? <li class="muted">and {r.moreOps} more</li> : null}
                      </ul>
                    </details>
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
