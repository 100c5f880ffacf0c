import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { type Browser, type Page, chromium } from 'playwright-core';
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
