/** @jsxImportSource hono/jsx */
// Renders dashboard pages inside the layout with the security headers, and turns action refusals into pages.
import type { Context } from "hono";
import type { Child } from "hono/jsx";
import { FleetsyncError } from "../../../shared/errors/fleetsync-error.ts";
import { countPendingDevices } from "../../services/dashboard-fleet.ts";
import type { HubContext } from "../../services/hub-context.ts";
import { Layout, Notice } from "./layout.tsx";
import { ErrorPage } from "./pages/error-page.tsx";

export const SECURITY_HEADERS = {
  "content-security-policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cache-control": "no-store",
};

/** A form field as text ("" when missing or a file). */
export function field(form: Record<string, unknown>, name: string): string {
  const value = form[name];
  return typeof value === "string" ? value : "";
}

/** Only local paths: a `back` field can never send the browser elsewhere. */
export function localPath(path: string, fallback: string): string {
  return path.startsWith("/") && !path.startsWith("//") ? path : fallback;
}

export type PageRenderer = ReturnType<typeof createPageRenderer>;

export function createPageRenderer(ctx: HubContext) {
  /** A page for a person who is not logged in (the login form). */
  function publicPage(c: Context, title: string, body: Child, status = 200) {
    const html = <Layout title={title}>{body}</Layout>;
    return c.html(`<!doctype html>${html}`, status as 200, SECURITY_HEADERS);
  }

  /** A logged-in page, with the `?notice=` an action left above its content. */
  async function page(
    c: Context,
    title: string,
    body: Child,
    options: { status?: number; keep?: boolean } = {},
  ) {
    const pendingCount = await countPendingDevices(ctx);
    const html = (
      <Layout title={title} loggedIn pendingCount={pendingCount} keep={options.keep}>
        <Notice text={c.req.query("notice")} />
        {body}
      </Layout>
    );
    return c.html(`<!doctype html>${html}`, (options.status ?? 200) as 200, SECURITY_HEADERS);
  }

  /** A refusal in the service's own words (the ones the CLI prints), with its status. */
  function refusal(c: Context, error: FleetsyncError, back: string) {
    return page(c, "Refused", <ErrorPage message={error.message} back={back} />, { status: error.status });
  }

  /** Renders what `load` builds, or the refusal it throws (a share or device that does not exist). */
  async function pageOrRefusal(
    c: Context,
    back: string,
    load: () => Promise<{ title: string; body: Child }>,
  ) {
    try {
      const { title, body } = await load();
      return await page(c, title, body);
    } catch (error) {
      if (!(error instanceof FleetsyncError)) throw error;
      return refusal(c, error, back);
    }
  }

  /** Runs an action; success goes back with a notice (303), a refusal is shown where it happened. */
  async function act(c: Context, back: string, action: () => Promise<string>) {
    try {
      const notice = await action();
      return c.redirect(`${back}${back.includes("?") ? "&" : "?"}notice=${encodeURIComponent(notice)}`, 303);
    } catch (error) {
      if (!(error instanceof FleetsyncError)) throw error;
      return refusal(c, error, back);
    }
  }

  return { publicPage, page, refusal, pageOrRefusal, act };
}
