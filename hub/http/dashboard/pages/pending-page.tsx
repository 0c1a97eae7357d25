/** @jsxImportSource hono/jsx */
// Devices waiting for approval: approve lets one sync, deny refuses it for good.
import type { DeviceView } from "../../../services/dashboard-fleet.ts";
import { formatAgo } from "../format.ts";

export function PendingPage(props: { devices: DeviceView[]; nowMs: number }) {
  return (
    <>
      <h1>Pending devices</h1>
      {props.devices.length === 0 ? (
        <p class="muted">
          No device is waiting. Tokens minted with approval (or shares created with approval required) put new
          devices here.
        </p>
      ) : (
        <div class="table">
          <table>
            <thead>
              <tr>
                <th>device</th>
                <th>enrolled</th>
                <th>last seen</th>
                <th>shares</th>
                <th>decide</th>
              </tr>
            </thead>
            <tbody>
              {props.devices.map((d) => (
                <tr data-device={d.id}>
                  <td>
                    <a href={`/devices/${encodeURIComponent(d.id)}`}>{d.name}</a>
                    <div class="muted">
                      <code>{d.id}</code>
                    </div>
                  </td>
                  <td>{formatAgo(d.enrolledAt, props.nowMs)}</td>
                  <td>{formatAgo(d.lastSeenAt, props.nowMs)}</td>
                  <td>{d.shares.map((s) => `${s.name}:${s.role}`).join(", ")}</td>
                  <td class="actions">
                    <form
                      class="inline"
                      method="post"
                      action={`/devices/${encodeURIComponent(d.id)}/approve`}
                    >
                      <input type="hidden" name="back" value="/pending" />
                      <button type="submit">Approve</button>
                    </form>
                    <form class="inline" method="post" action={`/devices/${encodeURIComponent(d.id)}/deny`}>
                      <input type="hidden" name="back" value="/pending" />
                      <button type="submit" class="danger">
                        Deny
                      </button>
                    </form>
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
