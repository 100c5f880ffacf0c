import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { type Browser, type BrowserContext, type Page, chromium } from 'playwright-core';
import { stack } from './clients.js';

/** Debian's chromium, as every machine of ours has it; playwright never downloads a browser here. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}

/** Signs in through Airflow's own login page, as a person would. */
export async function signIn(page: Page, user: string) {
  const { airflowUrl, passwords } = stack();
  await page.goto(`${airflowUrl}/`);
  await page.getByLabel(/username/i).fill(user);
  await page.getByLabel(/password/i).fill(passwords[user] ?? '');
  await page.getByRole('button', { name: /sign in/i }).click();
  await page.waitForURL((url) => !url.pathname.startsWith('/auth'));
}

export function screenshotPath(name: string): string {
  const dir = resolve(stack().outputDir, 'screenshots');
  mkdirSync(dir, { recursive: true });
  return resolve(dir, `${name}.png`);
}

export type Mode = 'light' | 'dark';

/** A signed-in page in light or dark mode; Airflow keeps the mode in localStorage under `theme`. */
export async function openAs(browser: Browser, user: string, mode: Mode = 'light') {
  const context: BrowserContext = await browser.newContext({ viewport: { width: 1400, height: 900 }, colorScheme: mode });
  await context.addInitScript((theme) => localStorage.setItem('theme', theme), mode);
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  await signIn(page, user);
  return { page, errors, close: () => context.close() };
}

export async function settle(page: Page) {
  // Let dialogs' and tables' entry animations finish, so screenshots show what a person sees.
  await page.waitForTimeout(400);
}
