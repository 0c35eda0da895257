import { test, expect, type Page } from "@playwright/test";
import { hydrated, newUser } from "./support";

const ROOMS = ["general", "random", "tech"];

/** Fails the test on any console error or uncaught exception in the page. */
function watchForErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("console", (msg) => {
    if (msg.type() === "error") errors.push(msg.text());
  });
  page.on("pageerror", (err) => errors.push(err.message));
  return errors;
}

test("the rooms are in the server-rendered HTML before any script runs", async ({ browser }) => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  const response = await page.goto("/rooms");
  expect(response?.status()).toBe(200);
  for (const room of ROOMS) {
    await expect(page.locator(`li[data-room="${room}"]`)).toBeVisible();
  }
  await expect(page.locator("li[data-room]")).toHaveCount(3);
  await expect(page.locator("li[data-room=general]")).toContainText("Company-wide");
  // No script ran, so nothing hydrated.
  await expect(page.locator("body")).not.toHaveAttribute("data-hydrated", "true");
  await context.close();
});

test("the filter box narrows the list once the page is hydrated", async ({ page }) => {
  const errors = watchForErrors(page);
  await page.goto("/rooms");
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");

  const filter = page.getByRole("searchbox", { name: "Filter rooms by name or topic" });
  await filter.fill("TEC");
  await expect(page.locator("li[data-room=tech]")).toBeVisible();
  await expect(page.locator("li[data-room=general]")).toBeHidden();
  await expect(page.locator("li[data-room=random]")).toBeHidden();

  // Topics match too.
  await filter.fill("announcements");
  await expect(page.locator("li[data-room=general]")).toBeVisible();
  await expect(page.locator("li[data-room=tech]")).toBeHidden();

  await filter.fill("no room is called this");
  await expect(page.getByText("No room matches this filter.")).toBeVisible();
  await expect(page.locator("li[data-room]:visible")).toHaveCount(0);

  await filter.fill("");
  await expect(page.locator("li[data-room]:visible")).toHaveCount(3);
  await expect(page.getByText("No room matches this filter.")).toBeHidden();
  expect(errors).toEqual([]);
});

test("the app shell navigates from home to the directory without a page load", async ({ page }) => {
  const errors = watchForErrors(page);
  await page.goto("/");
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
  await expect(page.locator("header.header")).toContainText("ChatSphere");

  // A marker on window survives client-side navigation but not a full load.
  await page.evaluate(() => ((window as unknown as { __marker: number }).__marker = 42));
  await page.locator("nav.sidebar").getByRole("link", { name: "Public rooms" }).click();
  await expect(page).toHaveURL(/\/rooms$/);
  await expect(page.locator("li[data-room]")).toHaveCount(3);
  await expect(page.locator("nav.sidebar a[aria-current=page]")).toHaveText("Public rooms");
  expect(await page.evaluate(() => (window as unknown as { __marker?: number }).__marker)).toBe(42);
  await expect(page).toHaveTitle("Public rooms · ChatSphere");
  expect(errors).toEqual([]);
});

test("on a narrow screen the sidebar is a drawer behind the menu button, also without JavaScript", async ({ browser }) => {
  for (const javaScriptEnabled of [true, false]) {
    const context = await browser.newContext({ javaScriptEnabled, viewport: { width: 390, height: 800 } });
    const page = await context.newPage();
    await page.goto("/rooms");
    const sidebar = page.locator("nav.sidebar");
    await expect(sidebar).toBeHidden();
    // The content takes the whole width.
    const main = (await page.locator("main.main").boundingBox())!;
    expect(main.width).toBeGreaterThan(380);
    await page.locator(".menu-button").click();
    await expect(sidebar).toBeVisible();
    await expect(sidebar.getByRole("link", { name: "Public rooms" })).toBeVisible();
    await page.keyboard.press("Escape");
    await expect(sidebar).toBeHidden();
    await context.close();
  }
});

test("the directory shows which rooms one has joined; rooms are joined and left from it and from the room", async ({ browser }) => {
  const { page, context } = await newUser(browser, "joiner");
  await page.goto("/rooms");
  await hydrated(page);
  // New accounts are in #general.
  await expect(page.locator("li[data-room=general] .badge.joined")).toHaveText("Joined");
  const tech = page.locator("li[data-room=tech]");
  await expect(tech.locator(".badge.joined")).toHaveCount(0);
  await tech.getByRole("button", { name: "Join #tech" }).click();
  await expect(tech.locator(".badge.joined")).toHaveText("Joined");
  await expect(page.locator(".conversations li").filter({ hasText: "#tech" })).toBeVisible();

  // Leaving from the room's own page goes back to the directory.
  await page.locator(".conversations li").filter({ hasText: "#tech" }).getByRole("link").click();
  await expect(page.locator(".conversation-header h1")).toHaveText("#tech");
  await page.getByRole("button", { name: "Leave room" }).click();
  await expect(page).toHaveURL(/\/rooms$/);
  await expect(page.locator("li[data-room=tech] .badge.joined")).toHaveCount(0);
  await expect(page.locator(".conversations li").filter({ hasText: "#tech" })).toHaveCount(0);

  // And from the directory.
  await page.locator("li[data-room=general]").getByRole("button", { name: "Leave #general" }).click();
  await expect(page.locator("li[data-room=general] .badge.joined")).toHaveCount(0);
  await expect(page.locator(".conversations li").filter({ hasText: "#general" })).toHaveCount(0);
  await context.close();
});
