import { test, expect, type Page } from "@playwright/test";

function watchForErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("console", (msg) => {
    if (msg.type() === "error") errors.push(msg.text());
  });
  page.on("pageerror", (err) => errors.push(err.message));
  return errors;
}

test.describe("a Chinese browser", () => {
  test.use({ locale: "zh-CN" });

  test("gets the app in Chinese, hydrated in the same language", async ({ page }) => {
    const errors = watchForErrors(page);
    await page.goto("/rooms");
    await expect(page.locator("html")).toHaveAttribute("lang", "zh-CN");
    await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
    await expect(page.getByRole("heading", { level: 1 })).toHaveText("公开房间");
    await expect(page.locator("nav.sidebar")).toContainText("首页");
    await expect(page.locator("li[data-room=general]")).toContainText(/\d+ 位成员/);
    // Hydrated in Chinese: the filter works and its texts stay Chinese.
    await page.getByRole("searchbox", { name: "按名称或主题筛选房间" }).fill("zzz");
    await expect(page.getByText("没有符合筛选条件的房间。")).toBeVisible();
    expect(errors).toEqual([]);
  });

  test("can switch to English, and the choice is remembered", async ({ page }) => {
    await page.goto("/");
    await expect(page.getByRole("heading", { level: 1 })).toHaveText("欢迎使用 ChatSphere");
    await page.locator(".language-switcher").getByRole("button", { name: "English" }).click();
    await expect(page.locator("html")).toHaveAttribute("lang", "en");
    await expect(page.getByRole("heading", { level: 1 })).toHaveText("Welcome to ChatSphere");
    await page.reload();
    await expect(page.getByRole("heading", { level: 1 })).toHaveText("Welcome to ChatSphere");
    await page.locator(".language-switcher").getByRole("button", { name: "简体中文" }).click();
    await expect(page.getByRole("heading", { level: 1 })).toHaveText("欢迎使用 ChatSphere");
  });
});

test.describe("a Chinese browser's error messages", () => {
  test.use({ locale: "zh-CN" });

  test("are in Chinese, from inline checks and from the server", async ({ page }) => {
    await page.goto("/register");
    await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
    await page.locator("#register-form input[name=username]").fill("ab");
    await expect(page.locator("[data-hint=username]")).toHaveText("用户名长度须为 3 到 32 个字符");
    await page.locator("#register-form input[name=password]").fill("short");
    await expect(page.locator("[data-hint=password]")).toHaveText("密码至少需要 8 个字符");

    await page.goto("/login");
    await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
    await page.locator("#sign-in-form input[name=login]").fill("nobody_here");
    await page.locator("#sign-in-form input[name=password]").fill("wrong-password-here");
    await page.locator("#sign-in-form button[type=submit]").click();
    await expect(page.getByRole("alert")).toHaveText("用户名、邮箱或密码不正确");
  });

  test.describe("without JavaScript", () => {
    test.use({ javaScriptEnabled: false });

    test("are in Chinese after a plain form post too", async ({ page }) => {
      await page.goto("/login");
      await page.locator("#sign-in-form input[name=login]").fill("nobody_here");
      await page.locator("#sign-in-form input[name=password]").fill("wrong-password-here");
      await page.locator("#sign-in-form button[type=submit]").click();
      await expect(page.getByRole("alert")).toHaveText("用户名、邮箱或密码不正确");
    });
  });
});

test.describe("without JavaScript", () => {
  test.use({ javaScriptEnabled: false });

  test("the language switcher works as a plain form and returns to the same page", async ({ page }) => {
    await page.goto("/rooms");
    await expect(page.getByRole("heading", { level: 1 })).toHaveText("Public rooms");
    await page.locator(".language-switcher").getByRole("button", { name: "简体中文" }).click();
    await expect(page).toHaveURL(/\/rooms$/);
    await expect(page.getByRole("heading", { level: 1 })).toHaveText("公开房间");
  });
});
