import { test, expect } from "@playwright/test";
import { PASSWORD, hydrated, registerIn, signInNewContext, uniqueName } from "./support";

test("signed-out visitors are sent to sign in and brought back after", async ({ page }) => {
  const username = uniqueName("back");
  await registerIn(page, username);
  await page.locator(".user-menu").getByRole("button", { name: "Sign out" }).click();
  await expect(page.locator(".user-menu").getByRole("link", { name: "Sign in" })).toBeVisible();

  await page.goto("/settings/profile");
  await expect(page).toHaveURL(/\/login\?next=\/settings\/profile$/);
  await hydrated(page);
  await page.locator("#sign-in-form input[name=login]").fill(username);
  await page.locator("#sign-in-form input[name=password]").fill(PASSWORD);
  await page.locator("#sign-in-form button[type=submit]").click();
  await expect(page).toHaveURL(/\/settings\/profile$/);
  await expect(page.locator("#profile-form")).toBeVisible();
});

test("a profile change is kept after a reload", async ({ page }) => {
  await registerIn(page, uniqueName("prof"));
  await page.goto("/settings/profile");
  await hydrated(page);
  await page.locator("#profile-form input[name=display_name]").fill("李雷 Li Lei");
  await page.locator("#profile-form input[name=email]").fill("lilei@example.com");
  await page.locator("#profile-form button[type=submit]").click();
  await expect(page.getByRole("status")).toHaveText("Profile saved.");
  await page.reload();
  await expect(page.locator("#profile-form input[name=display_name]")).toHaveValue("李雷 Li Lei");
  await expect(page.locator("#profile-form input[name=email]")).toHaveValue("lilei@example.com");
  await expect(page.locator(".user-menu .user-name")).toHaveText("李雷 Li Lei");

  await page.locator("#profile-form input[name=avatar_url]").fill("javascript:alert(1)");
  await page.locator("#profile-form input[name=avatar_url]").evaluate((el: HTMLInputElement) => (el.type = "text"));
  await page.locator("#profile-form button[type=submit]").click();
  await expect(page.getByRole("status")).toContainText("avatar_url");
});

test("revoking another session signs that browser out", async ({ page, browser }) => {
  const username = uniqueName("multi");
  await registerIn(page, username);
  const other = await signInNewContext(browser, username);

  await page.goto("/settings/security");
  await hydrated(page);
  await expect(page.locator(".session")).toHaveCount(2);
  await expect(page.locator(".session[data-current=true]")).toHaveCount(1);
  await page.locator(".session[data-current=false]").getByRole("button", { name: "Sign out" }).click();
  await expect(page.locator(".session")).toHaveCount(1);

  await other.reload();
  await expect(other.locator(".user-menu").getByRole("link", { name: "Sign in" })).toBeVisible();
  await other.context().close();
});

test("changing the password signs out other sessions", async ({ page, browser }) => {
  const username = uniqueName("pw");
  await registerIn(page, username);
  const other = await signInNewContext(browser, username);

  await page.goto("/settings/security");
  await hydrated(page);
  await page.locator("#password-form input[name=current_password]").fill("wrong-current-pass");
  await page.locator("#password-form input[name=new_password]").fill("tidal-lantern-88-moss");
  await page.locator("#password-form button[type=submit]").click();
  await expect(page.getByRole("status")).toHaveText("the current password is wrong");

  await page.locator("#password-form input[name=current_password]").fill(PASSWORD);
  await page.locator("#password-form button[type=submit]").click();
  await expect(page.getByRole("status")).toHaveText("Password changed. Your other sessions were signed out.");

  await other.reload();
  await expect(other.locator(".user-menu").getByRole("link", { name: "Sign in" })).toBeVisible();
  await page.reload();
  await expect(page.locator(".user-menu .user-name")).toHaveText(username);
  await other.context().close();
});

test.describe("without JavaScript", () => {
  test.use({ javaScriptEnabled: false });

  test("profile, password and session forms all work as plain forms", async ({ page, browser }) => {
    const username = uniqueName("plain");
    await page.goto("/register");
    await page.locator("#register-form input[name=username]").fill(username);
    await page.locator("#register-form input[name=password]").fill(PASSWORD);
    await page.locator("#register-form button[type=submit]").click();
    await expect(page.locator(".user-menu .user-name")).toHaveText(username);
    const other = await signInNewContext(browser, username);

    await page.goto("/settings/profile");
    await page.locator("#profile-form input[name=display_name]").fill("纯表单 Plain");
    await page.locator("#profile-form button[type=submit]").click();
    await expect(page).toHaveURL(/\/settings\/profile\?done=profile$/);
    await expect(page.getByRole("status")).toHaveText("Profile saved.");
    await expect(page.locator("#profile-form input[name=display_name]")).toHaveValue("纯表单 Plain");
    await expect(page.locator(".user-menu .user-name")).toHaveText("纯表单 Plain");

    await page.locator("#profile-form input[name=email]").evaluate((el: HTMLInputElement) => (el.type = "text"));
    await page.locator("#profile-form input[name=email]").fill("not-an-email");
    await page.locator("#profile-form button[type=submit]").click();
    await expect(page.getByRole("status")).toHaveText("email: must contain '@'");

    await page.goto("/settings/security");
    await page.locator("#password-form input[name=current_password]").fill("wrong-current-pass");
    await page.locator("#password-form input[name=new_password]").fill("tidal-lantern-88-moss");
    await page.locator("#password-form button[type=submit]").click();
    await expect(page.getByRole("status")).toHaveText("the current password is wrong");

    await expect(page.locator(".session")).toHaveCount(2);
    await page.locator(".session[data-current=false]").getByRole("button", { name: "Sign out" }).click();
    await expect(page).toHaveURL(/\/settings\/security\?done=sessions$/);
    await expect(page.locator(".session")).toHaveCount(1);
    await other.reload();
    await expect(other.locator(".user-menu").getByRole("link", { name: "Sign in" })).toBeVisible();
    await other.context().close();

    await page.locator("#password-form input[name=current_password]").fill(PASSWORD);
    await page.locator("#password-form input[name=new_password]").fill("tidal-lantern-88-moss");
    await page.locator("#password-form button[type=submit]").click();
    await expect(page.getByRole("status")).toHaveText("Password changed. Your other sessions were signed out.");
  });
});
