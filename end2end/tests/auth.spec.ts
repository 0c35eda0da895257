import { test, expect, type Page } from "@playwright/test";
import { PASSWORD, hydrated, uniqueName } from "./support";

async function register(page: Page, username: string, displayName: string) {
  await page.goto("/register");
  await page.locator("#register-form input[name=username]").fill(username);
  await page.locator("#register-form input[name=display_name]").fill(displayName);
  await page.locator("#register-form input[name=password]").fill(PASSWORD);
  await page.locator("#register-form button[type=submit]").click();
}

test("register, sign out and sign in again, with a clear wrong-password message", async ({ page }) => {
  const username = uniqueName("ada");
  await page.goto("/register");
  await hydrated(page);
  // Signed out, the sidebar offers no account pages.
  const sidebar = page.locator("nav.sidebar");
  await expect(sidebar.getByRole("link", { name: "Profile" })).toHaveCount(0);
  await register(page, username, "Ada 洛夫莱斯");
  // A new account starts in #general, not on an empty home page.
  await expect(page).toHaveURL(/\/c\/[0-9a-f-]+$/);
  await expect(page.locator(".conversation-header h1")).toHaveText("#general");
  await expect(page.locator(".user-menu .user-name")).toHaveText("Ada 洛夫莱斯");
  await expect(sidebar.getByRole("link", { name: "Profile" })).toBeVisible();
  await expect(sidebar.getByRole("link", { name: "Security" })).toBeVisible();

  await page.locator(".user-menu").getByRole("button", { name: "Sign out" }).click();
  await expect(page.locator(".user-menu").getByRole("link", { name: "Sign in" })).toBeVisible();
  await expect(sidebar.getByRole("link", { name: "Profile" })).toHaveCount(0);

  await page.goto("/login");
  await hydrated(page);
  await page.locator("#sign-in-form input[name=login]").fill(username);
  await page.locator("#sign-in-form input[name=password]").fill("not-the-password");
  await page.locator("#sign-in-form button[type=submit]").click();
  await expect(page.getByRole("alert")).toHaveText("invalid username, email or password");

  await page.locator("#sign-in-form input[name=password]").fill(PASSWORD);
  await page.locator("#sign-in-form button[type=submit]").click();
  await expect(page.locator(".user-menu .user-name")).toHaveText("Ada 洛夫莱斯");
  // The session survives a reload: it lives in HttpOnly cookies.
  await page.reload();
  await expect(page.locator(".user-menu .user-name")).toHaveText("Ada 洛夫莱斯");
  const cookies = await page.context().cookies();
  const access = cookies.find((c) => c.name === "cs_access");
  expect(access?.httpOnly).toBe(true);
  expect(access?.sameSite).toBe("Lax");
  expect(await page.evaluate(() => document.cookie)).not.toContain("cs_access");
});

test("registration fields are checked as they are typed, with the server's rules", async ({ page }) => {
  await page.goto("/register");
  await hydrated(page);
  await page.locator("#register-form input[name=username]").fill("ab");
  await expect(page.locator("[data-hint=username]")).toContainText("3 to 32 characters");
  await page.locator("#register-form input[name=username]").fill("abc");
  await expect(page.locator("[data-hint=username]")).toBeEmpty();
  await page.locator("#register-form input[name=password]").fill("short");
  await expect(page.locator("[data-hint=password]")).toContainText("at least 8 characters");
  await page.locator("#register-form input[name=email]").fill("not-an-email");
  await expect(page.locator("[data-hint=email]")).toContainText("email");
});

test("a taken username is reported on the form", async ({ page }) => {
  const username = uniqueName("taken");
  await page.goto("/register");
  await hydrated(page);
  await register(page, username, "First");
  await expect(page.locator(".user-menu .user-name")).toHaveText("First");
  await page.locator(".user-menu").getByRole("button", { name: "Sign out" }).click();
  await expect(page.locator(".user-menu").getByRole("link", { name: "Sign in" })).toBeVisible();
  await page.goto("/register");
  await hydrated(page);
  await register(page, username.toUpperCase(), "Second");
  await expect(page.getByRole("alert")).toHaveText("That username is already taken.");
});

test("a link cannot make the sign-in page say anything", async ({ page }) => {
  await page.goto("/login?error=Your+account+is+locked.+Call+555+0100&failed=/login");
  await hydrated(page);
  await expect(page.getByRole("alert")).toBeHidden();
  await expect(page.locator("body")).not.toContainText("account is locked");
});

test.describe("without JavaScript", () => {
  test.use({ javaScriptEnabled: false });

  test("register, sign out, wrong password and sign in all work as plain forms", async ({ page }) => {
    const username = uniqueName("nojs");
    await register(page, username, "No Script");
    await expect(page).toHaveURL(/\/c\/[0-9a-f-]+$/);
    await expect(page.locator(".conversation-header h1")).toHaveText("#general");
    await expect(page.locator(".user-menu .user-name")).toHaveText("No Script");

    await page.locator(".user-menu").getByRole("button", { name: "Sign out" }).click();
    await expect(page.locator(".user-menu").getByRole("link", { name: "Sign in" })).toBeVisible();

    await page.goto("/login?next=/rooms");
    await page.locator("#sign-in-form input[name=login]").fill(username);
    await page.locator("#sign-in-form input[name=password]").fill("wrong-password-here");
    await page.locator("#sign-in-form button[type=submit]").click();
    await expect(page.getByRole("alert")).toHaveText("invalid username, email or password");
    // The server handed the message over in a one-time cookie, not the
    // address: a reload does not repeat it.
    expect(page.url()).not.toContain("error");
    await page.reload();
    await expect(page.getByRole("alert")).toBeHidden();

    await page.locator("#sign-in-form input[name=login]").fill(username);
    await page.locator("#sign-in-form input[name=password]").fill(PASSWORD);
    await page.locator("#sign-in-form button[type=submit]").click();
    await expect(page).toHaveURL(/\/rooms$/);
    await expect(page.locator(".user-menu .user-name")).toHaveText("No Script");
  });
});
