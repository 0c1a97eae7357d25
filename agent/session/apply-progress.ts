// Progress of a long first sync, catch-up or upload: files and bytes done of total, rate and time left, logged and saved.
import { mkdir, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { AgentLogger } from "../log/agent-logger.ts";

export type ProgressFigures = {
  doneFiles: number;
  totalFiles: number;
  doneBytes: number;
  totalBytes: number;
};

export type ProgressDirection = "receiving" | "sending";

/** Where `agent status` finds a running catch-up's (or first upload's) figures; removed once done. */
export function progressFile(
  stateDir: string,
  share: string,
  direction: ProgressDirection = "receiving",
): string {
  return join(stateDir, "progress", direction === "receiving" ? `${share}.json` : `${share}.sending.json`);
}

/** Drops figures an earlier run saved and did not finish (a new run starts its own). */
export async function clearProgress(
  stateDir: string,
  share: string,
  direction: ProgressDirection,
): Promise<void> {
  await rm(progressFile(stateDir, share, direction), { force: true });
}

/** How each direction words its lines: a replica catches up, a source uploads. */
const WORDING: Record<ProgressDirection, { running: string; finished: string }> = {
  receiving: { running: "progress", finished: "caught up" },
  sending: { running: "upload progress", finished: "uploaded" },
};

/** Instructions smaller than this are applied without progress reports (they take a moment). */
export const PROGRESS_MIN_OPS = 200;
const REPORT_EVERY_MS = 5000;

const mib = (bytes: number) => `${(bytes / 1048576).toFixed(1)} MiB`;

export class ApplyProgress {
  private figures: ProgressFigures;
  private readonly startedAt: number;
  private lastReport = 0;
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly options: {
      stateDir: string;
      share: string;
      log: AgentLogger;
      now?: () => number;
      direction?: ProgressDirection;
    },
    total: { files: number; bytes: number },
    /** The sequence that ends this catch-up (the hub's head when it started). */
    private untilSeq: number,
  ) {
    this.figures = { doneFiles: 0, totalFiles: total.files, doneBytes: 0, totalBytes: total.bytes };
    this.startedAt = this.now();
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  get snapshot(): ProgressFigures {
    return { ...this.figures };
  }

  /** More work than first known arrived (new changes during the catch-up): the total grows, never shrinks. */
  expect(files: number, bytes: number, toSeq: number): void {
    this.untilSeq = Math.max(this.untilSeq, toSeq);
    this.figures.totalFiles = Math.max(this.figures.totalFiles, this.figures.doneFiles + files);
    this.figures.totalBytes = Math.max(this.figures.totalBytes, this.figures.doneBytes + bytes);
  }

  done(bytes: number): void {
    this.advance(1, bytes);
  }

  /** `files` more done, `bytes` of them; a line every few seconds. */
  advance(files: number, bytes: number): void {
    this.figures.doneFiles += files;
    this.figures.doneBytes += bytes;
    this.figures.totalFiles = Math.max(this.figures.totalFiles, this.figures.doneFiles);
    this.figures.totalBytes = Math.max(this.figures.totalBytes, this.figures.doneBytes);
    if (this.now() - this.lastReport >= REPORT_EVERY_MS) this.report();
  }

  private get direction(): ProgressDirection {
    return this.options.direction ?? "receiving";
  }

  /** Caught up once the cursor reaches the sequence this catch-up aimed for. */
  finishedAt(cursor: number): boolean {
    return cursor >= this.untilSeq;
  }

  /** Logs where it stands (rate and time left from the average so far) and saves it for `agent status`. */
  report(): void {
    this.lastReport = this.now();
    const f = this.figures;
    const seconds = Math.max(0.001, (this.now() - this.startedAt) / 1000);
    const rate = f.doneBytes / seconds;
    const fileRate = f.doneFiles / seconds;
    const leftSeconds =
      rate > 0 && f.totalBytes > f.doneBytes
        ? (f.totalBytes - f.doneBytes) / rate
        : fileRate > 0
          ? (f.totalFiles - f.doneFiles) / fileRate
          : undefined;
    this.options.log.info(
      `${WORDING[this.direction].running}: ${f.doneFiles}/${f.totalFiles} files, ${mib(f.doneBytes)}/${mib(f.totalBytes)}, ${mib(rate)}/s` +
        (leftSeconds !== undefined ? `, about ${Math.ceil(leftSeconds)} s left` : ""),
      { ...f, direction: this.direction },
    );
    this.save({
      ...f,
      bytesPerSecond: Math.round(rate),
      secondsLeft: leftSeconds === undefined ? null : Math.ceil(leftSeconds),
    });
  }

  private save(figures: object): void {
    const file = progressFile(this.options.stateDir, this.options.share, this.direction);
    this.writing = this.writing
      .then(async () => {
        await mkdir(join(this.options.stateDir, "progress"), { recursive: true });
        await writeFile(
          `${file}.tmp`,
          JSON.stringify({ ...figures, at: new Date(this.now()).toISOString() }),
        );
        await rename(`${file}.tmp`, file);
      })
      .catch(() => {});
  }

  /** Caught up: says so once and removes the figures from disk. */
  async finish(): Promise<void> {
    const f = this.figures;
    this.options.log.info(
      `${WORDING[this.direction].finished}: ${f.doneFiles} files, ${mib(f.doneBytes)} in ${Math.round((this.now() - this.startedAt) / 1000)} s`,
    );
    await this.writing;
    await clearProgress(this.options.stateDir, this.options.share, this.direction);
  }
}
