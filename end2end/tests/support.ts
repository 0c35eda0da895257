// Helpers shared by the Playwright specs: unique accounts, hydration, and
// signing people in, each in their own browser context.
import { expect, type Browser, type BrowserContext, type Page } from "@playwright/test";

/** The password every test account uses. */
export const PASSWORD = "quiet-orchard-62-heron";

/** A username no other test (or earlier run on the same database) has used. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}${Math.floor(Math.random() * 1000)}`;
}

/**
 * Headers for a request made with `page`'s cookies outside the page
 * (`page.request`): the `Origin` a browser sends, which the server requires
 * on every state-changing request authenticated by the session cookie.
 */
export function sameOrigin(page: Page): { origin: string } {
  return { origin: new URL(page.url()).origin };
}

/** Waits until the page is hydrated (the app marks `<body>`). */
export async function hydrated(page: Page) {
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
}

/** Opens the direct conversation with `other` from `page`; returns its id. */
export async function openDirect(page: Page, other: string): Promise<string> {
  await page.goto(`/new?q=${other}`);
  await hydrated(page);
  await page.locator(`.person[data-user=${other}]`).getByRole("button").click();
  await expect(page).toHaveURL(/\/c\/[0-9a-f-]+$/);
  await hydrated(page);
  return page.url().split("/c/")[1];
}

/** Registers `username` through the form on `page` and waits until signed in. */
export async function registerIn(page: Page, username: string, javaScriptEnabled = true) {
  await page.goto("/register");
  if (javaScriptEnabled) await hydrated(page);
  await page.locator("#register-form input[name=username]").fill(username);
  await page.locator("#register-form input[name=password]").fill(PASSWORD);
  await page.locator("#register-form button[type=submit]").click();
  await expect(page.locator(".user-menu .user-name")).toHaveText(username);
}

/** The admin of the installation, named by CHATSPHERE_ADMINS in playwright.config.ts. */
export const ADMIN = "e2e_admin";

/** Creates the admin's account unless it exists (any spec may run first). */
export async function ensureAdminAccount(browser: Browser) {
  const context = await browser.newContext();
  const created = await context.request.post("/api/v1/auth/register", {
    data: { username: ADMIN, password: PASSWORD },
  });
  expect([201, 409], await created.text()).toContain(created.status());
  await context.close();
}

/** A new browser context with a freshly registered user. */
export async function newUser(
  browser: Browser,
  prefix: string,
  javaScriptEnabled = true,
): Promise<{ page: Page; context: BrowserContext; username: string }> {
  const context = await browser.newContext({ javaScriptEnabled });
  const page = await context.newPage();
  const username = uniqueName(prefix);
  await registerIn(page, username, javaScriptEnabled);
  return { page, context, username };
}

/** `username` signed in on another "device": a new context, through the sign-in form. */
export async function signInNewContext(browser: Browser, username: string): Promise<Page> {
  // Explicitly: a spec may turn JavaScript off for its own pages.
  const page = await (await browser.newContext({ javaScriptEnabled: true })).newPage();
  await page.goto("/login");
  await hydrated(page);
  await page.locator("#sign-in-form input[name=login]").fill(username);
  await page.locator("#sign-in-form input[name=password]").fill(PASSWORD);
  await page.locator("#sign-in-form button[type=submit]").click();
  await expect(page.locator(".user-menu .user-name")).toHaveText(username);
  return page;
}

/**
 * Records what `page` reports as going wrong: CSP violations (console
 * reports and `securitypolicyviolation` events), hydration errors and
 * uncaught exceptions. Call before navigating; the result lists them, from
 * every document the page has shown (a page that navigated away keeps its
 * reports). Failing to read them fails the test: "could not look" is never
 * "nothing found".
 */
export async function watchPageProblems(page: Page): Promise<() => Promise<string[]>> {
  const problems: string[] = [];
  page.on("console", (message) => {
    if (/Content Security Policy|Content-Security-Policy|hydration error/i.test(message.text())) {
      problems.push(message.text());
    }
  });
  page.on("pageerror", (error) => problems.push(error.message));
  // Each document reports its violations to the test as they happen, so
  // they outlive the document; `null` is the marker `flush` sends.
  await page.exposeBinding(REPORT, (_source, text: string | null) => {
    if (text !== null) problems.push(text);
  });
  await page.addInitScript((name) => {
    const report = (window as unknown as Record<string, (text: string | null) => Promise<void>>)[name];
    document.addEventListener("securitypolicyviolation", (event) => {
      void report(`${event.violatedDirective} blocked ${event.blockedURI}`);
    });
  }, REPORT);
  return async () => {
    // Reports travel to the test asynchronously, in order: once a marker
    // sent now has arrived, so has every report sent before it.
    await flush(page);
    return [...problems];
  };
}

/** The name of the binding documents report their problems through. */
const REPORT = "__reportPageProblem";

/** Sends the marker; retried once if the page was navigating meanwhile
 * (the new document reports to the same list). Anything else throws. */
async function flush(page: Page) {
  const send = () =>
    page.evaluate((name) => (window as unknown as Record<string, (text: null) => Promise<void>>)[name](null), REPORT);
  try {
    await send();
  } catch (error) {
    if (page.isClosed() || !/Execution context was destroyed|navigat/i.test(String(error))) throw error;
    await page.waitForLoadState("load");
    await send();
  }
}

/** The signed-in user's id. */
export async function myId(page: Page): Promise<string> {
  const me = await page.request.get("/api/v1/auth/me");
  expect(me.status()).toBe(200);
  return (await me.json()).id;
}
