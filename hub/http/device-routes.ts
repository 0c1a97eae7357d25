// /v1 for devices: enrolment, config, change reports, blocks, instructions, acks and cursors.
import { type Context, Hono } from "hono";
import type { RequestIdVariables } from "hono/request-id";
import { z } from "zod";
import { BLOCKS_CONTENT_TYPE } from "../../shared/blocks/block-frames.ts";
import { FleetsyncError } from "../../shared/errors/fleetsync-error.ts";
import { HashSchema } from "../../shared/protocol/entry.ts";
import {
  AckRequestSchema,
  CursorRequestSchema,
  EnrollRequestSchema,
  MAX_HASHES_PER_FETCH,
  ReportRequestSchema,
  StatusRequestSchema,
} from "../../shared/protocol/messages.ts";
import { ShareNameSchema } from "../../shared/protocol/shares.ts";
import { REUPLOAD_HEADER, REUPLOAD_REQUESTED } from "../../shared/protocol/wanted-blocks.ts";
import { storeBlocks, streamBlocks } from "../services/blocks.ts";
import { commitReport } from "../services/commit-report.ts";
import { enrollDevice } from "../services/enrolment.ts";
import type { HubContext } from "../services/hub-context.ts";
import { acknowledgeInstruction, nextInstructions, setCursor } from "../services/instructions.ts";
import { reportMemberStatus } from "../services/member-status.ts";
import { wantedBlocks } from "../services/relay-wants.ts";
import { listDeviceShares } from "../services/shares.ts";
import { type DeviceVariables, deviceAuth } from "./device-auth.ts";
import { readJson, validate } from "./validate.ts";

const FetchQuerySchema = z.object({
  hashes: z
    .string()
    .transform((s) => s.split(","))
    .pipe(z.array(HashSchema).min(1).max(MAX_HASHES_PER_FETCH)),
});
const WaitQuerySchema = z.object({
  wait: z.coerce.number().int().min(0).max(3600).default(0),
  /** `1`: the agent expands block-list deltas (`blocksFrom`) in instructions. */
  deltas: z.enum(["0", "1"]).default("0"),
});

export function deviceRoutes(ctx: HubContext, clientAddress: (c: Context) => string) {
  const app = new Hono<{ Variables: RequestIdVariables }>();

  app.post("/enroll", async (c) => {
    const retryAfter = await ctx.enrolLimiter.hit(clientAddress(c), ctx.now());
    if (retryAfter > 0) {
      throw new FleetsyncError(
        "rate_limited",
        `too many enrolment attempts from this address; retry in ${retryAfter} s`,
        { retryAfterSeconds: retryAfter },
      );
    }
    return c.json(await enrollDevice(ctx, await readJson(c, EnrollRequestSchema)), 201);
  });

  const authenticated = new Hono<{ Variables: DeviceVariables }>();
  authenticated.use(deviceAuth(ctx));

  authenticated.get("/config", async (c) =>
    c.json({
      deviceId: c.get("deviceId"),
      hubId: ctx.identity.hubId,
      shares: await listDeviceShares(ctx, c.get("deviceId")),
    }),
  );

  authenticated.post("/shares/:share/reports", async (c) => {
    const share = validate(ShareNameSchema, c.req.param("share"), "path parameter share");
    const body = await readJson(c, ReportRequestSchema);
    return c.json(await commitReport(ctx, c.get("deviceId"), share, body.entries, body.scan));
  });

  authenticated.put("/shares/:share/cursor", async (c) => {
    const share = validate(ShareNameSchema, c.req.param("share"), "path parameter share");
    return c.json(await setCursor(ctx, c.get("deviceId"), share, await readJson(c, CursorRequestSchema)));
  });

  authenticated.put("/shares/:share/status", async (c) => {
    const share = validate(ShareNameSchema, c.req.param("share"), "path parameter share");
    const body = await readJson(c, StatusRequestSchema);
    return c.json(await reportMemberStatus(ctx, { deviceId: c.get("deviceId"), share, ...body }));
  });

  authenticated.post("/blocks", async (c) => {
    const body = c.req.raw.body;
    if (!body) throw new FleetsyncError("bad_request", "block upload has no body");
    return c.json(await storeBlocks(ctx, { deviceId: c.get("deviceId"), body }));
  });

  authenticated.get("/blocks", async (c) => {
    const { hashes } = validate(FetchQuerySchema, c.req.query(), "query");
    const { stream, reuploadRequested } = await streamBlocks(ctx, { deviceId: c.get("deviceId"), hashes });
    return c.body(stream, 200, {
      "content-type": BLOCKS_CONTENT_TYPE,
      ...(reuploadRequested ? { [REUPLOAD_HEADER]: REUPLOAD_REQUESTED } : {}),
    });
  });

  authenticated.get("/shares/:share/wanted-blocks", async (c) => {
    const share = validate(ShareNameSchema, c.req.param("share"), "path parameter share");
    const { wait } = validate(WaitQuerySchema, c.req.query(), "query");
    return c.json(
      await wantedBlocks(ctx, {
        deviceId: c.get("deviceId"),
        share,
        waitSeconds: wait,
        signal: c.req.raw.signal,
      }),
    );
  });

  authenticated.get("/instructions", async (c) => {
    const { wait, deltas } = validate(WaitQuerySchema, c.req.query(), "query");
    const instructions = await nextInstructions(ctx, c.get("deviceId"), wait, c.req.raw.signal, {
      deltas: deltas === "1",
    });
    // With its length declared, the answer a whole fleet gets at once is not streamed through the metrics counter.
    const body = JSON.stringify({ instructions });
    const length = new TextEncoder().encode(body).length;
    return c.body(body, 200, { "content-type": "application/json", "content-length": String(length) });
  });

  authenticated.post("/instructions/:id/ack", async (c) => {
    const ack = await readJson(c, AckRequestSchema);
    return c.json(await acknowledgeInstruction(ctx, c.get("deviceId"), c.req.param("id"), ack));
  });

  app.route("/", authenticated);
  return app;
}
