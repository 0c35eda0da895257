// The Content-Security-Policy lets the app run and blocks nothing it needs:
// every page is opened (signed out and signed in, rendered on the server and
// navigated to in the browser) and the browser reports no CSP violation.
import { expect, test } from "@playwright/test";
import { hydrated, newUser, watchPageProblems } from "./support";

test("signed-out pages run under the CSP without violations", async ({ page }) => {
  const violations = await watchPageProblems(page);
  for (const path of ["/", "/login", "/register", "/no/such/page"]) {
    const response = await page.goto(path);
    const csp = response?.headers()["content-security-policy"] ?? "";
    expect(csp, path).toContain("'wasm-unsafe-eval'");
    expect(csp, path).toMatch(/script-src 'self' 'nonce-[A-Za-z0-9_-]{22,}'/);
    expect(csp, path).not.toContain("unsafe-inline");
    await hydrated(page);
    expect(await violations(), path).toEqual([]);
  }
});

test("every signed-in page, loaded and navigated to, has no CSP violation", async ({ browser }) => {
  const { page, context, username } = await newUser(browser, "csp");
  const violations = await watchPageProblems(page);
  // Full loads (server-rendered, then hydrated).
  for (const path of ["/", "/rooms", "/new", "/settings/profile", "/settings/security", "/settings/notifications", "/settings/tokens"]) {
    await page.goto(path);
    await hydrated(page);
    expect(await violations(), path).toEqual([]);
  }
  // A conversation with live traffic (the default #general room).
  await page.locator(".conversations li").filter({ hasText: "#general" }).getByRole("link").click();
  await expect(page).toHaveURL(/\/c\//);
  await hydrated(page);
  await page.locator("#composer-body").fill(`csp check from ${username}`);
  await page.locator("#composer-body").press("Enter");
  await expect(page.locator(".message:not(.pending) .body").last()).toHaveText(`csp check from ${username}`);
  // Client-side navigation between pages.
  await page.locator("a[href='/settings/profile']").first().click();
  await expect(page).toHaveURL(/\/settings\/profile/);
  await page.goBack();
  await expect(page).toHaveURL(/\/c\//);
  expect(await violations()).toEqual([]);
  await context.close();
});

// The watcher the tests above (and the admin spec) rely on can fail: it
// sees a violation, keeps it after the page has moved on, and a list it
// cannot read is an error, never "no violations".
test("the page-problem watcher reports a violation after navigation, and fails when it cannot look", async ({ browser }) => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const violations = await watchPageProblems(page);
  await page.goto("/login");
  await hydrated(page);
  // An inline script without the nonce: what the CSP must block.
  await page.evaluate(() => {
    const script = document.createElement("script");
    script.textContent = "document.body.dataset.ran = '1'";
    document.body.append(script);
  });
  await expect(page.locator("body")).not.toHaveAttribute("data-ran", "1");
  await page.goto("/register");
  await hydrated(page);
  expect(await violations()).toContainEqual(expect.stringMatching(/^script-src(-elem)? blocked inline$/));
  await page.close();
  await expect(violations()).rejects.toThrow();
  await context.close();
});
