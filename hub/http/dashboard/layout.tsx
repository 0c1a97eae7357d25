/** @jsxImportSource hono/jsx */
// The frame around every dashboard page: header with navigation, the live indicator and logout; main content.
import type { Child } from "hono/jsx";

export type LayoutProps = {
  title: string;
  loggedIn?: boolean;
  pendingCount?: number;
  /** Keep the page as rendered (it shows a secret once): live refresh leaves it alone. */
  keep?: boolean;
  children?: Child;
};

export function Layout(props: LayoutProps) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`${props.title} · fleetsync`}</title>
        <link rel="stylesheet" href="/assets/dashboard.css" />
        {props.loggedIn && !props.keep ? (
          <noscript>
            <meta http-equiv="refresh" content="30" />
          </noscript>
        ) : null}
      </head>
      <body>
        <header>
          <span class="brand">fleetsync</span>
          {props.loggedIn ? (
            <>
              <nav class="actions">
                <a href="/">Fleet</a>
                <a href="/pending">Pending{props.pendingCount ? ` (${props.pendingCount})` : ""}</a>
                <a href="/tokens">Tokens</a>
              </nav>
              <span id="live" class="muted">
                ○ not live
              </span>
              <form method="post" action="/logout">
                <button type="submit">Log out</button>
              </form>
            </>
          ) : null}
        </header>
        <main id="main" data-keep={props.keep ? "true" : "false"}>
          {props.children}
        </main>
        {props.loggedIn ? <script src="/assets/dashboard.js" defer /> : null}
      </body>
    </html>
  );
}

export function Notice(props: { text?: string; bad?: boolean }) {
  if (!props.text) return null;
  return (
    <p class={`banner ${props.bad ? "bad" : "ok"}`} role={props.bad ? "alert" : "status"}>
      {props.text}
    </p>
  );
}
