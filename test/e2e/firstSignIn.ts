/** A new account's first visit, as a person does it: the sign-in page, the one-time password, a new password, home. */
import type { Page } from 'playwright-core';

export async function firstSignIn(page: Page, serverUrl: string, username: string, oneTimePassword: string, newPassword: string): Promise<void> {
  await page.goto(`${serverUrl}/`);
  await page.waitForURL(/\/login\?next=/);
  await page.getByTestId('username').fill(username);
  await page.getByTestId('password').fill(oneTimePassword);
  await page.getByTestId('sign-in').click();
  await page.getByTestId('new-password').fill(newPassword);
  await page.getByTestId('repeat-password').fill(newPassword);
  await page.getByTestId('change-password').click();
  await page.waitForURL(`${serverUrl}/`);
}
