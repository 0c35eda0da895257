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

/** Registers `username` through the form on `page` and waits until signed in. */
export async function registerIn(page: Page, username: string, javaScriptEnabled = true) {
  await page.goto("/register");
  if (javaScriptEnabled) await hydrated(page);
  await page.locator("#register-form input[name=username]").fill(username);
  await page.locator("#register-form input[name=password]").fill(PASSWORD);
  await page.locator("#register-form button[type=submit]").click();
  await expect(page.locator(".user-menu .user-name")).toHaveText(username);
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
 * uncaught exceptions. Call before navigating; the result lists them.
 */
export async function watchPageProblems(page: Page): Promise<() => Promise<string[]>> {
  const console: string[] = [];
  page.on("console", (message) => {
    if (/Content Security Policy|Content-Security-Policy|hydration error/i.test(message.text())) {
      console.push(message.text());
    }
  });
  page.on("pageerror", (error) => console.push(error.message));
  await page.addInitScript(() => {
    const seen: string[] = [];
    (window as unknown as { __cspViolations: string[] }).__cspViolations = seen;
    document.addEventListener("securitypolicyviolation", (event) => {
      seen.push(`${event.violatedDirective} blocked ${event.blockedURI}`);
    });
  });
  return async () => {
    const dom = await page
      .evaluate(() => (window as unknown as { __cspViolations?: string[] }).__cspViolations ?? [])
      .catch(() => []);
    return [...console, ...dom];
  };
}
