import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

/** Debian's chromium: playwright-core never downloads a browser of its own. */
export const CHROMIUM = '/usr/bin/chromium';

/**
 * Flags for a quiet, throw-away browser on a test machine: no sandbox (tests run
 * as root), no GPU, and nothing that reaches out to the network on its own.
 * Playwright adds --headless itself; the profile (--user-data-dir) is the fresh
 * folder given to launchPersistentContext (Playwright refuses it in args).
 */
const FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface Browser {
  context: BrowserContext;
  /** Everything the pages printed to their consoles or threw, for failure reports. */
  console: string[];
  newPage(): Promise<Page>;
  stop(): Promise<void>;
}

export function chromiumInstalled(): boolean {
  return existsSync(CHROMIUM);
}

/** Headless chromium with a fresh profile, removed again by stop(). */
export async function startBrowser(): Promise<Browser> {
  const profile = await mkdtemp(join(tmpdir(), 'opdbus-chromium-'));
  const log: string[] = [];
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: FLAGS,
      viewport: { width: 1280, height: 1000 },
      timeout: 30_000,
    });
  } catch (err) {
    await rm(profile, { recursive: true, force: true });
    throw err;
  }
  context.on('page', (page) => {
    page.on('console', (message) => log.push(`console.${message.type()}: ${message.text()}`));
    page.on('pageerror', (error) => log.push(`page error: ${error.message}`));
  });
  return {
    context,
    console: log,
    newPage: () => context.newPage(),
    async stop() {
      await context.close().catch(() => undefined);
      await rm(profile, { recursive: true, force: true });
    },
  };
}

interface PageDocument {
  querySelector(selector: string): { innerText: string } | null;
}

/**
 * Waits until the element's text as shown (innerText: table cells apart, hidden
 * parts left out) matches; the page updates from D-Bus signals.
 */
export async function waitForText(
  page: Page,
  selector: string,
  expected: RegExp,
  timeoutMs = 30_000,
): Promise<string> {
  try {
    await page.waitForFunction(
      ([sel, source, flags]) => {
        // Runs in the page (this project compiles without the DOM's types).
        const page = globalThis as unknown as { document: PageDocument };
        const element = page.document.querySelector(sel);
        return element !== null && new RegExp(source, flags).test(element.innerText);
      },
      [selector, expected.source, expected.flags] as const,
      { timeout: timeoutMs },
    );
  } catch (err) {
    const now = await page
      .locator(selector)
      .first()
      .innerText({ timeout: 1000 })
      .catch(() => '(absent)');
    throw new Error(`${selector} never matched ${String(expected)}; it shows: ${now}`, {
      cause: err,
    });
  }
  return page.locator(selector).first().innerText();
}
