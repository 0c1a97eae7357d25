// Preloaded with `node --import` (NODE_OPTIONS) by `npm run bench -- --profile DIR`. Node 20 refuses --cpu-prof in
// NODE_OPTIONS, so this starts the V8 sampling profiler itself and writes a .cpuprofile when the process exits. It
// also writes <pid>.memory.jsonl: process.memoryUsage() every second and every garbage collection, to tell a heap
// that grew from memory outside it, and a late GC from real work.
import { appendFileSync, mkdirSync, writeFileSync } from "node:fs";
import { Session } from "node:inspector";
import { join } from "node:path";
import { PerformanceObserver } from "node:perf_hooks";

const dir = process.env.FLEETSYNC_BENCH_CPU_PROF_DIR;
if (dir) {
  mkdirSync(dir, { recursive: true });
  const session = new Session();
  session.connect();
  session.post("Profiler.enable");
  session.post("Profiler.setSamplingInterval", { interval: 1000 });
  session.post("Profiler.start");
  process.once("exit", () => {
    // The in-process inspector session answers synchronously, so this works inside an "exit" handler.
    session.post("Profiler.stop", (error, result) => {
      if (error || !result) return;
      writeFileSync(join(dir, `${process.pid}.cpuprofile`), JSON.stringify(result.profile));
    });
  });

  const memoryLog = join(dir, `${process.pid}.memory.jsonl`);
  const mib = (bytes) => Math.round((bytes / 1048576) * 10) / 10;
  const sample = (extra) => {
    const m = process.memoryUsage();
    const line = {
      t: Date.now(),
      rss: mib(m.rss),
      heapTotal: mib(m.heapTotal),
      heapUsed: mib(m.heapUsed),
      external: mib(m.external),
      arrayBuffers: mib(m.arrayBuffers),
      ...extra,
    };
    appendFileSync(memoryLog, `${JSON.stringify(line)}\n`);
  };
  setInterval(() => sample({}), 1000).unref();
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      sample({ gc: entry.detail?.kind ?? entry.kind, gcMs: Math.round(entry.duration * 10) / 10 });
    }
  }).observe({ entryTypes: ["gc"] });
}
