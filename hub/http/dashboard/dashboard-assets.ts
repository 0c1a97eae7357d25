// The dashboard's stylesheet and its one small script (live refresh over server-sent events, copy buttons).

export const DASHBOARD_CSS = `
:root { color-scheme: light dark; --fg: #1b1f24; --bg: #fff; --muted: #5c6670; --line: #d8dee4; --bad: #b42318;
  --warn: #9a6700; --ok: #1a7f37; --chip: #eef1f4; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6edf3; --bg: #0d1117; --muted: #8d96a0; --line: #30363d;
  --bad: #ff7b72; --warn: #d29922; --ok: #3fb950; --chip: #161b22; } }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); }
header { display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: center; padding: .6rem 1rem; border-bottom: 1px solid var(--line); }
header .brand { font-weight: 700; margin-right: auto; }
header a { color: inherit; }
header form { margin: 0; }
main { padding: 1rem; max-width: 72rem; margin: 0 auto; }
h1 { font-size: 1.35rem; margin: .2rem 0 1rem; }
h2 { font-size: 1.1rem; margin: 1.6rem 0 .5rem; }
a { color: #0969da; }
.table { overflow-x: auto; -webkit-overflow-scrolling: touch; border: 1px solid var(--line); border-radius: 6px; }
table { border-collapse: collapse; width: 100%; font-size: .92rem; }
th, td { text-align: left; padding: .4rem .6rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-weight: 600; color: var(--muted); white-space: nowrap; }
tr:last-child td { border-bottom: 0; }
.status { display: inline-block; padding: 0 .45rem; border-radius: 999px; background: var(--chip); white-space: nowrap; font-size: .85rem; }
.status-erroring, .status-failed, .status-denied, .status-revoked { color: var(--bad); font-weight: 600; }
.status-offline, .status-behind, .status-pending, .status-partial, .status-dry-run { color: var(--warn); font-weight: 600; }
.status-up-to-date, .status-ok, .status-active, .status-online { color: var(--ok); }
.error { color: var(--bad); }
.muted { color: var(--muted); }
.banner { padding: .6rem .8rem; border-radius: 6px; margin: 0 0 1rem; border: 1px solid var(--line); }
.banner.bad { border-color: var(--bad); color: var(--bad); }
.banner.ok { border-color: var(--ok); }
pre, code { font: .85rem/1.4 ui-monospace, SFMono-Regular, Menlo, monospace; }
pre { white-space: pre-wrap; word-break: break-all; background: var(--chip); padding: .6rem; border-radius: 6px; }
form.inline { display: inline; }
.actions { display: flex; flex-wrap: wrap; gap: .5rem; align-items: center; margin: .5rem 0; }
input, select, button { font: inherit; padding: .35rem .55rem; border: 1px solid var(--line); border-radius: 6px; background: var(--bg); color: var(--fg); }
button { cursor: pointer; background: var(--chip); }
button.danger { color: var(--bad); }
label { display: inline-flex; gap: .35rem; align-items: center; }
.grid { display: grid; gap: .6rem; grid-template-columns: repeat(auto-fit, minmax(12rem, 1fr)); }
.grid label { min-width: 0; }
.grid label input:not([type="checkbox"]), .grid label select { flex: 1; min-width: 0; width: 100%; }
details { margin: .2rem 0; }
#live { font-size: .8rem; }
@media (max-width: 40rem) { main { padding: .6rem; } th, td { padding: .35rem .4rem; } }
`;

export const DASHBOARD_JS = `
(() => {
  const live = document.getElementById("live");
  const main = () => document.getElementById("main");
  let busy = false;
  let again = false;
  async function refresh() {
    const current = main();
    if (!current || current.dataset.keep === "true") return;
    const focused = document.activeElement;
    if (focused && current.contains(focused) && /^(INPUT|SELECT|TEXTAREA)$/.test(focused.tagName)) {
      again = true;
      setTimeout(refresh, 3000);
      return;
    }
    if (busy) { again = true; return; }
    busy = true;
    try {
      const response = await fetch(location.pathname + location.search, { credentials: "same-origin" });
      if (new URL(response.url).pathname === "/login") { location.assign("/login"); return; }
      if (!response.ok) return;
      const next = new DOMParser().parseFromString(await response.text(), "text/html").getElementById("main");
      if (next) {
        current.replaceWith(next);
        document.body.dataset.refreshes = String(Number(document.body.dataset.refreshes || 0) + 1);
      }
    } finally {
      busy = false;
      if (again) { again = false; refresh(); }
    }
  }
  const events = new EventSource("/events");
  events.addEventListener("open", () => { if (live) live.textContent = "● live"; });
  // The hub ends each stream after a while and the browser reconnects at once: only a closed one is news.
  events.addEventListener("error", () => {
    if (live && events.readyState === EventSource.CLOSED) live.textContent = "○ not live (reload the page)";
  });
  events.addEventListener("change", refresh);
  document.addEventListener("click", (event) => {
    const button = event.target.closest && event.target.closest("[data-copy]");
    if (!button) return;
    navigator.clipboard && navigator.clipboard.writeText(button.dataset.copy).then(() => { button.textContent = "copied"; });
  });
})();
`;
