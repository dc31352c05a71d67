/** What both screenshot scripts share: the console on a free port and a logged-in Chromium page. */
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import { chromium, type Page } from 'playwright-core';
import { createConsoleServer } from '../../src/console/index.js';
import { loadConfig } from '../../src/server/config.js';
import { CHROMIUM, CHROMIUM_ARGS } from '../../test/helpers/chromium.js';

export const OUT = fileURLToPath(new URL('../../docs/console/', import.meta.url));
export const ADMIN_TOKEN = 'screenshot-admin-token-0123';

export async function openConsole(
  url: string,
  tokens: string,
  logger: Logger,
): Promise<{ page: Page; base: string; close: () => Promise<void> }> {
  const config = loadConfig({ REDIS_URL: url, HOPPER_TOKENS: tokens, HOST: '127.0.0.1', PORT: '0' });
  const app = createConsoleServer(config, logger);
  const base = `${await app.listen({ host: '127.0.0.1', port: 0 })}/dashboard/`;
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  mkdirSync(OUT, { recursive: true });
  const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
  page.on('pageerror', (e) => console.error('page error:', e.message));
  await page.goto(base);
  return {
    page,
    base,
    close: async () => {
      await browser.close();
      await app.close();
    },
  };
}

/** Logs in with the admin token and waits for the overview. */
export async function logIn(page: Page): Promise<void> {
  await page.fill('#token', ADMIN_TOKEN);
  await page.click('button[type=submit]');
  await page.waitForSelector('table.queues');
}
