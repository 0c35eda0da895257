import { test, expect, type Browser } from "@playwright/test";

// "Sign in with …" against a real OpenID Connect provider (oauth2-mock-server,
// started by playwright.config.ts), which approves at once as John Doe.

test("signing in through the OIDC provider returns to the page the user wanted", async ({ page }) => {
  await page.goto("/settings/profile");
  await expect(page).toHaveURL(/\/login\?next=\/settings\/profile$/);
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
  const button = page.getByRole("link", { name: "Sign in with Test SSO" });
  await expect(button).toBeVisible();
  await button.click();
  await expect(page).toHaveURL(/\/settings\/profile$/);
  await expect(page.locator(".user-menu .user-name")).toHaveText("John Doe");
  await expect(page.locator("#profile-form input[name=email]")).toHaveValue("john.doe@example.com");
});

test.describe("without JavaScript", () => {
  /** Signs in through the provider button in a new browser without
   * JavaScript; returns the account the server signed it in to. */
  async function signInByButton(browser: Browser): Promise<{ id: string; username: string }> {
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    await page.goto("/login?next=/rooms");
    await page.getByRole("link", { name: "Sign in with Test SSO" }).click();
    await expect(page).toHaveURL(/\/rooms$/);
    await expect(page.locator(".user-menu .user-name")).toHaveText("John Doe");
    // The account itself, by id (the page's cookie authenticates the API):
    // a second account with the same name would look the same on the page.
    const me = await page.request.get("/api/v1/auth/me");
    expect(me.status()).toBe(200);
    const { id, username } = await me.json();
    await context.close();
    return { id, username };
  }

  test("the provider button works as a plain link and finds the same account", async ({ browser }) => {
    // The first sign-in creates the account (or finds it, if another test
    // signed John Doe in before): either way, the second must find it.
    const first = await signInByButton(browser);
    const second = await signInByButton(browser);
    expect(first.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(second).toEqual(first);
  });
});

test("the registration page offers the provider too, in Chinese as well", async ({ browser }) => {
  const context = await browser.newContext({ locale: "zh-CN" });
  const page = await context.newPage();
  await page.goto("/register");
  await expect(page.getByRole("link", { name: "使用 Test SSO 登录" })).toBeVisible();
  await context.close();
});
