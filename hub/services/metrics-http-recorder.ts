// Counts the hub's HTTP traffic in this process: requests by route and status, latency histogram, body bytes.
import type { MetricFamily, Sample } from "./metrics-text.ts";

/** Latency buckets in seconds, from a quick lookup to a full long-poll. */
export const LATENCY_BUCKETS_SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

export type HttpObservation = {
  method: string;
  route: string;
  status: number;
  durationSeconds: number;
};

type Histogram = { buckets: number[]; sum: number; count: number };

export type HttpMetricsRecorder = ReturnType<typeof createHttpMetricsRecorder>;

export function createHttpMetricsRecorder() {
  const requests = new Map<string, number>();
  const latency = new Map<string, Histogram>();
  const receivedBytes = new Map<string, number>();
  const sentBytes = new Map<string, number>();
  const key = (...parts: string[]) => JSON.stringify(parts);
  const add = (map: Map<string, number>, k: string, n: number) => map.set(k, (map.get(k) ?? 0) + n);

  return {
    observe(o: HttpObservation) {
      add(requests, key(o.method, o.route, String(o.status)), 1);
      const k = key(o.method, o.route);
      let h = latency.get(k);
      if (!h) {
        h = { buckets: LATENCY_BUCKETS_SECONDS.map(() => 0), sum: 0, count: 0 };
        latency.set(k, h);
      }
      LATENCY_BUCKETS_SECONDS.forEach((le, i) => {
        if (o.durationSeconds <= le) h.buckets[i]! += 1;
      });
      h.sum += o.durationSeconds;
      h.count += 1;
    },
    received(method: string, route: string, bytes: number) {
      add(receivedBytes, key(method, route), bytes);
    },
    sent(method: string, route: string, bytes: number) {
      add(sentBytes, key(method, route), bytes);
    },
    families(): MetricFamily[] {
      const parse = (k: string) => JSON.parse(k) as string[];
      const latencySamples: Sample[] = [];
      for (const [k, h] of latency) {
        const [method, route] = parse(k) as [string, string];
        LATENCY_BUCKETS_SECONDS.forEach((le, i) => {
          latencySamples.push({
            suffix: "_bucket",
            labels: { method, route, le: String(le) },
            value: h.buckets[i]!,
          });
        });
        latencySamples.push({ suffix: "_bucket", labels: { method, route, le: "+Inf" }, value: h.count });
        latencySamples.push({ suffix: "_sum", labels: { method, route }, value: h.sum });
        latencySamples.push({ suffix: "_count", labels: { method, route }, value: h.count });
      }
      const bytesSamples = (map: Map<string, number>) =>
        [...map].map(([k, value]) => {
          const [method, route] = parse(k) as [string, string];
          return { labels: { method, route }, value };
        });
      return [
        {
          name: "fleetsync_http_requests_total",
          help: "HTTP requests this hub process answered, by method, route and status.",
          type: "counter",
          samples: [...requests].map(([k, value]) => {
            const [method, route, status] = parse(k) as [string, string, string];
            return { labels: { method, route, status }, value };
          }),
        },
        {
          name: "fleetsync_http_request_duration_seconds",
          help: "Time this hub process took to answer HTTP requests (long-polls included), by method and route.",
          type: "histogram",
          samples: latencySamples,
        },
        {
          name: "fleetsync_http_received_bytes_total",
          help: "Request body bytes received by this hub process (block uploads, reports), by method and route.",
          type: "counter",
          samples: bytesSamples(receivedBytes),
        },
        {
          name: "fleetsync_http_sent_bytes_total",
          help: "Response body bytes sent by this hub process (block downloads, instructions), by method and route.",
          type: "counter",
          samples: bytesSamples(sentBytes),
        },
      ];
    },
  };
}
