/** @jsxImportSource hono/jsx */
// The fleet, share, device and pending pages, and what a person can do to a device: approve, deny, revoke,
// rename, remove.
import { type Context, Hono } from "hono";
import { approveDevice, denyDevice } from "../../services/approval.ts";
import { readDeviceDetail } from "../../services/dashboard-device.ts";
import { readFleet } from "../../services/dashboard-fleet.ts";
import { readShareDetail } from "../../services/dashboard-share.ts";
import { removeDevice, renameDevice, revokeDevice } from "../../services/devices.ts";
import type { HubContext } from "../../services/hub-context.ts";
import { field, localPath, type PageRenderer } from "./page-renderer.tsx";
import { DevicePage } from "./pages/device-page.tsx";
import { FleetPage } from "./pages/fleet-page.tsx";
import { PendingPage } from "./pages/pending-page.tsx";
import { SharePage } from "./pages/share-page.tsx";
import { type DashboardEnv, refuseCrossOrigin, requireSession } from "./session-guard.ts";

type DeviceVerb = (id: string, form: Record<string, unknown>) => Promise<string>;

export function fleetPageRoutes(ctx: HubContext, render: PageRenderer) {
  const app = new Hono<DashboardEnv>();
  const session = requireSession(ctx);

  app.get("/", session, async (c) => render.page(c, "Fleet", <FleetPage fleet={await readFleet(ctx)} />));
  app.get("/shares/:name", session, (c) =>
    render.pageOrRefusal(c, "/", async () => {
      const detail = await readShareDetail(ctx, c.req.param("name"));
      return { title: `Share ${detail.share.name}`, body: <SharePage detail={detail} nowMs={ctx.now()} /> };
    }),
  );
  app.get("/devices/:id", session, (c) =>
    render.pageOrRefusal(c, "/", async () => {
      const detail = await readDeviceDetail(ctx, c.req.param("id"));
      return {
        title: `Device ${detail.device.name}`,
        body: <DevicePage detail={detail} nowMs={ctx.now()} />,
      };
    }),
  );
  app.get("/pending", session, async (c) => {
    const fleet = await readFleet(ctx);
    const waiting = fleet.devices.filter((d) => d.state === "pending");
    return render.page(c, "Pending devices", <PendingPage devices={waiting} nowMs={fleet.nowMs} />);
  });

  /** A device action from a form; it returns to the form's `back` page (or the device page). */
  const deviceAction = (verb: DeviceVerb, fallback?: string) => async (c: Context) => {
    const id = c.req.param("id") ?? "";
    const form = await c.req.parseBody();
    const back = localPath(field(form, "back"), fallback ?? `/devices/${encodeURIComponent(id)}`);
    return render.act(c, back, () => verb(id, form));
  };
  const post = (path: string, verb: DeviceVerb, fallback?: string) =>
    app.post(path, refuseCrossOrigin, session, deviceAction(verb, fallback));

  post("/devices/:id/approve", async (id) => {
    await approveDevice(ctx, id);
    return `device ${id} approved; it starts syncing on its next poll`;
  });
  post("/devices/:id/deny", async (id) => {
    await denyDevice(ctx, id);
    return `device ${id} denied`;
  });
  post("/devices/:id/revoke", async (id) => {
    await revokeDevice(ctx, id);
    return `device ${id} revoked`;
  });
  post("/devices/:id/rename", async (id, form) => {
    const renamed = await renameDevice(ctx, id, field(form, "name"));
    return `device ${id} renamed to ${renamed.name}`;
  });
  post(
    "/devices/:id/remove",
    async (id) => {
      await removeDevice(ctx, id);
      return `device ${id} removed`;
    },
    "/",
  );
  return app;
}
