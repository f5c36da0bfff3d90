/** Signs a browser page in for the first time: the one-time password, then a new one, back on the home page. */
import type { Page } from 'playwright-core';

export async function signInFirstTime(page: Page, baseUrl: string, username: string, oneTimePassword: string, newPassword: string): Promise<void> {
  await page.getByTestId('username').fill(username);
  await page.getByTestId('password').fill(oneTimePassword);
  await page.getByTestId('sign-in').click();
  await page.getByTestId('new-password').fill(newPassword);
  await page.getByTestId('repeat-password').fill(newPassword);
  await page.getByTestId('change-password').click();
  await page.waitForURL(`${baseUrl}/`);
}
