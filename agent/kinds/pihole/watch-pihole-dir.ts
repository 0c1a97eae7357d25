// Watches FTL's directory (pihole.toml and gravity.db are replaced by rename) plus a slow poll as a safety net.
import { type FSWatcher, watch } from "node:fs";
import type { KindWatcher } from "../share-kind.ts";

const WATCHED = /^(pihole\.toml|gravity\.db|custom\.list)/;

export function watchPiholeDir(options: {
  configDir: string;
  pollMs: number;
  onDirty: (path: string) => void;
  onError: (error: Error) => void;
}): KindWatcher {
  const { configDir, pollMs, onDirty, onError } = options;
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(configDir, { persistent: false }, (_event, name) => {
      if (name === null || WATCHED.test(String(name))) onDirty("");
    });
    watcher.on("error", onError);
  } catch (error) {
    onError(error as Error);
  }
  const timer = setInterval(() => onDirty(""), pollMs);
  timer.unref();
  return {
    ready: Promise.resolve(),
    async close() {
      clearInterval(timer);
      watcher?.close();
    },
  };
}
