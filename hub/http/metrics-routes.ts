// GET /metrics for Prometheus (admin or metrics token), and the middleware that counts every request for it.
import { Hono, type MiddlewareHandler } from "hono";
import { routePath } from "hono/route";
import type { HubContext } from "../services/hub-context.ts";
import { renderMetrics } from "../services/metrics.ts";
import type { HttpMetricsRecorder } from "../services/metrics-http-recorder.ts";
import { PROMETHEUS_CONTENT_TYPE } from "../services/metrics-text.ts";
import { authenticateMetricsReader } from "../services/metrics-tokens.ts";

/** Records method, matched route pattern (never the raw path: ids would explode the label set), status, time, bytes. */
export function recordHttpMetrics(recorder: HttpMetricsRecorder): MiddlewareHandler {
  return async (c, next) => {
    const started = performance.now();
    const length = Number(c.req.header("content-length") ?? 0);
    try {
      await next();
    } finally {
      const route = routePath(c) || "unmatched";
      recorder.observe({
        method: c.req.method,
        route,
        status: c.res.status,
        durationSeconds: (performance.now() - started) / 1000,
      });
      if (Number.isFinite(length) && length > 0) recorder.received(c.req.method, route, length);
      const method = c.req.method;
      // A declared length is counted as is: wrapping the body in a counting stream costs every response a stream.
      const declared = Number(c.res.headers.get("content-length") ?? Number.NaN);
      const body = Number.isFinite(declared) ? null : c.res.body;
      if (Number.isFinite(declared) && declared > 0) recorder.sent(method, route, declared);
      if (body) {
        const counter = new TransformStream<Uint8Array, Uint8Array>({
          transform(chunk, controller) {
            recorder.sent(method, route, chunk.byteLength);
            controller.enqueue(chunk);
          },
        });
        c.res = new Response(body.pipeThrough(counter), c.res);
      }
    }
  };
}

export function metricsRoutes(ctx: HubContext, recorder: HttpMetricsRecorder) {
  const app = new Hono();
  app.get("/metrics", async (c) => {
    await authenticateMetricsReader(ctx, c.req.header("authorization"));
    return c.body(await renderMetrics(ctx, recorder), 200, { "content-type": PROMETHEUS_CONTENT_TYPE });
  });
  return app;
}
