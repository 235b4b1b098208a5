// Debian's Chromium, driven by playwright-core, as the browser tests and benchmarks run it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type Browser, type BrowserContext, chromium } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** A headless Chromium without a profile. */
export const launchChromium = (): Promise<Browser> =>
  chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_FLAGS });

/**
 * Chromium with a fresh profile (a persistent context, as a person's browser keeps its cookies); `close`
 * removes the profile too.
 */
export async function launchChromiumProfile({
  viewport = { width: 1280, height: 900 },
  javaScriptEnabled = true,
}: {
  viewport?: { width: number; height: number };
  javaScriptEnabled?: boolean;
} = {}) {
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'homeostat-chromium-'));
  const context: BrowserContext = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_FLAGS,
    viewport,
    javaScriptEnabled,
  });
  return {
    context,
    async close() {
      await context.close().catch(() => {});
      fs.rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}
