// Test support: real Chromium (Debian's /usr/bin/chromium) driven by playwright-core, with a fresh profile each time.
import { existsSync } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { makeTempDir, REPO_ROOT } from "./fleet.ts";

export const CHROMIUM = "/usr/bin/chromium";
/** Where e2e tests leave screenshots for a person to look at (gitignored). */
export const ARTIFACTS_DIR = join(REPO_ROOT, "test-artifacts");

export const hasChromium = existsSync(CHROMIUM);

/** Offline, quiet Chromium: nothing but the pages the test opens talks to the network. */
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-dev-shm-usage",
];

export type TestBrowser = {
  context: BrowserContext;
  page: Page;
  /** Saves a full-page screenshot as test-artifacts/<name>.png and returns its path. */
  screenshot: (name: string) => Promise<string>;
  close: () => Promise<void>;
};

export async function launchBrowser(
  options: { viewport?: { width: number; height: number } } = {},
): Promise<TestBrowser> {
  const profile = await makeTempDir("fleetsync-chromium-");
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: options.viewport ?? { width: 1280, height: 900 },
    timeout: 60_000,
  });
  const page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(20_000);
  await mkdir(ARTIFACTS_DIR, { recursive: true });
  return {
    context,
    page,
    async screenshot(name) {
      const path = join(ARTIFACTS_DIR, `${name}.png`);
      await page.screenshot({ path, fullPage: true });
      return path;
    },
    async close() {
      await context.close().catch(() => {});
      await rm(profile, { recursive: true, force: true });
    },
  };
}
