/** @jsxImportSource hono/jsx */
// Enrolment and metrics tokens: mint one (and copy the exact enroll command), see their state, revoke.
import type { listTokens } from "../../../services/enrolment.ts";
import type { listMetricsTokens } from "../../../services/metrics-tokens.ts";
import { statusClass } from "../format.ts";

export type TokensPageProps = {
  tokens: Awaited<ReturnType<typeof listTokens>>;
  metricsTokens: Awaited<ReturnType<typeof listMetricsTokens>>;
  shareNames: string[];
  /** Shown once, right after minting. */
  created?: { command?: string; token: string; kind: "enrolment" | "metrics" };
};

export function TokensPage(props: TokensPageProps) {
  return (
    <>
      <h1>Tokens</h1>
      {props.created ? (
        <section class="banner ok" id="created">
          {props.created.kind === "enrolment" ? (
            <>
              <p>Token minted. Run this on the device (shown once):</p>
              <pre id="enroll-command">{props.created.command}</pre>
              <button type="button" data-copy={props.created.command}>
                Copy command
              </button>
            </>
          ) : (
            <>
              <p>Metrics token minted (shown once). Give it to Prometheus as a bearer token:</p>
              <pre id="metrics-token">{props.created.token}</pre>
              <button type="button" data-copy={props.created.token}>
                Copy token
              </button>
            </>
          )}
        </section>
      ) : null}

      <h2>Mint an enrolment token</h2>
      {props.shareNames.length === 0 ? (
        <p class="muted">Create a share first: fleetsync share create NAME</p>
      ) : (
        <form method="post" action="/tokens" class="grid">
          <label>
            share
            <select name="share">
              {props.shareNames.map((n) => (
                <option value={n}>{n}</option>
              ))}
            </select>
          </label>
          <label>
            role
            <select name="role">
              <option value="replica">replica</option>
              <option value="source">source</option>
              <option value="peer">peer</option>
            </select>
          </label>
          <label>
            valid for <input name="ttl" value="24h" size={6} />
          </label>
          <label>
            label <input name="label" maxlength={200} />
          </label>
          <label>
            <input type="checkbox" name="approval" value="1" /> hold the device for approval
          </label>
          <button type="submit">Mint token</button>
        </form>
      )}

      <h2>Enrolment tokens</h2>
      <div class="table">
        <table>
          <thead>
            <tr>
              <th>id</th>
              <th>label</th>
              <th>shares</th>
              <th>state</th>
              <th>expires</th>
              <th>used by</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {props.tokens.map((t) => (
              <tr data-token={t.jti}>
                <td>
                  <code>{t.jti}</code>
                </td>
                <td>{t.label}</td>
                <td>
                  {t.shares.map((s) => `${s.name}:${s.role}`).join(", ")}
                  {t.approval ? " (approval)" : ""}
                </td>
                <td>
                  <span class={statusClass(t.state === "unused" ? "ok" : t.state)}>{t.state}</span>
                </td>
                <td>{t.expiresAt}</td>
                <td>{t.usedBy ?? ""}</td>
                <td>
                  {t.state === "unused" ? (
                    <form class="inline" method="post" action={`/tokens/${encodeURIComponent(t.jti)}/revoke`}>
                      <button type="submit" class="danger">
                        Revoke
                      </button>
                    </form>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>

      <h2>Metrics tokens</h2>
      <form method="post" action="/metrics-tokens" class="actions">
        <label>
          label <input name="label" maxlength={200} />
        </label>
        <button type="submit">Mint metrics token</button>
      </form>
      {props.metricsTokens.length === 0 ? null : (
        <div class="table">
          <table>
            <thead>
              <tr>
                <th>id</th>
                <th>label</th>
                <th>state</th>
                <th>created</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {props.metricsTokens.map((t) => (
                <tr>
                  <td>
                    <code>{t.id}</code>
                  </td>
                  <td>{t.label}</td>
                  <td>
                    <span class={statusClass(t.state)}>{t.state}</span>
                  </td>
                  <td>{t.createdAt}</td>
                  <td>
                    {t.state === "active" ? (
                      <form
                        class="inline"
                        method="post"
                        action={`/metrics-tokens/${encodeURIComponent(t.id)}/revoke`}
                      >
                        <button type="submit" class="danger">
                          Revoke
                        </button>
                      </form>
                    ) : null}
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
