import AxeBuilder from '@axe-core/playwright';
import { Browser, BrowserContext, chromium, Page } from 'playwright-core';

/** Debian's chromium (apt-get install chromium), which .ci/run installs. */
export const CHROMIUM = process.env.DCM_TEST_CHROMIUM ?? '/usr/bin/chromium';

export interface TestBrowser {
  browser: Browser;
  /** A fresh context (its own cookies): JavaScript on unless `javaScriptEnabled: false`. */
  context(options?: { javaScriptEnabled?: boolean }): Promise<BrowserContext>;
  close(): Promise<void>;
}

/**
 * Launches headless Chromium as a CI machine without a display runs it. Playwright's launch gives it a fresh, temporary
 * user-data directory of its own (and removes it on close); each context is a fresh profile's cookies and storage.
 */
export async function launchBrowser(): Promise<TestBrowser> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  return {
    browser,
    context: (options = {}) => browser.newContext({ javaScriptEnabled: options.javaScriptEnabled ?? true }),
    close: () => browser.close(),
  };
}

/** axe-core's WCAG 2.x A and AA rules on the page as it stands: the violations, each with the elements at fault. */
export async function axeViolations(page: Page): Promise<string[]> {
  const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']).analyze();
  return results.violations.map((violation) => `${violation.id}: ${violation.help} (${violation.nodes.map((node) => node.target.join(' ')).join(', ')})`);
}
