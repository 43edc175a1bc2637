import { copyFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import type { Browser } from '../harness/browser.js';

/** Where the browser test's screenshots go (OPDBUS_SCREENSHOTS, or a temporary folder). */
export const SCREENSHOTS = process.env.OPDBUS_SCREENSHOTS ?? join(tmpdir(), 'opdbus-cockpit-shots');
const DOCS_SCREENSHOT = fileURLToPath(new URL('../../docs/cockpit.png', import.meta.url));

/**
 * Opens the page in a fresh tab and waits until it is wired to the daemon
 * (main.js sets data-ready once the manager's properties have arrived).
 */
export async function openPage(browser: Browser, url: string): Promise<Page> {
  const page = await browser.newPage();
  await page.goto(url);
  try {
    await page.waitForSelector('body[data-ready="yes"]', { timeout: 30_000 });
  } catch (err) {
    throw new Error(`the page never became ready:\n${browser.console.join('\n')}`, { cause: err });
  }
  return page;
}

/** The rows of a table as arrays of cell texts (innerText separates cells by tabs). */
export async function tableRows(page: Page, selector: string): Promise<string[][]> {
  const rows = await page.locator(`${selector} tbody tr`).allInnerTexts();
  return rows.map((row) => row.split('\t').map((cell) => cell.trim()));
}

/** A full-page screenshot; with OPDBUS_UPDATE_SCREENSHOT=NAME that one also becomes docs/cockpit.png. */
export async function screenshot(page: Page, name: string): Promise<string> {
  await mkdir(SCREENSHOTS, { recursive: true });
  const path = join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  if (process.env.OPDBUS_UPDATE_SCREENSHOT === name) await copyFile(path, DOCS_SCREENSHOT);
  return path;
}

/** Types a document into the editor as a person would replace its text. */
export async function setDocument(page: Page, document: unknown): Promise<void> {
  await page.fill('#document', JSON.stringify(document, null, 2));
}
