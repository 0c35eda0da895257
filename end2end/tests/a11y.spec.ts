// Accessibility: axe (WCAG 2.1 A and AA rules) on every page, signed out
// and signed in as an admin (so /admin is included), in light and dark
// mode, in English and Chinese. Any serious or critical violation fails.
import AxeBuilder from "@axe-core/playwright";
import { test, expect, type Browser, type Page } from "@playwright/test";
import { ADMIN, ensureAdminAccount, hydrated, newUser, openDirect, signInNewContext } from "./support";

type Scheme = "light" | "dark";
type Locale = "en" | "zh-CN";

/** The serious and critical violations on the page as it is now. */
async function violations(page: Page, label: string): Promise<string[]> {
  const results = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
  return results.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${label}: ${v.id} (${v.impact}) at ${v.nodes.map((n) => n.target.join(" ")).slice(0, 3).join(", ")}`);
}

async function visit(page: Page, path: string) {
  await page.goto(path);
  await hydrated(page);
}

async function inLocale(page: Page, scheme: Scheme, locale: Locale) {
  await page.emulateMedia({ colorScheme: scheme });
  // The site's root, so the cookie holds for every path.
  await page.context().addCookies([{ name: "lang", value: locale, url: new URL(page.url()).origin }]);
}

async function sweep(browser: Browser, scheme: Scheme, locale: Locale): Promise<string[]> {
  const found: string[] = [];
  // Signed out.
  const visitor = await (await browser.newContext()).newPage();
  await visitor.goto("/health");
  await inLocale(visitor, scheme, locale);
  for (const path of ["/", "/rooms", "/login", "/register", "/no-such-page"]) {
    await visit(visitor, path);
    found.push(...(await violations(visitor, `visitor ${path}`)));
  }
  await visitor.context().close();

  // An admin with a direct conversation and a group.
  await ensureAdminAccount(browser);
  const ben = await newUser(browser, "axe");
  const admin = await signInNewContext(browser, ADMIN);
  await inLocale(admin, scheme, locale);
  const direct = await openDirect(admin, ben.username);
  await admin.locator("#composer-body").fill("hello 你好 https://example.com");
  await admin.locator("#composer-body").press("Enter");
  await expect(admin.locator(".message:not(.pending)")).not.toHaveCount(0);
  await visit(admin, "/new");
  await admin.locator("#group-form input[name=name]").fill("axe group");
  await admin.locator("#group-form input[name=members]").fill(ben.username);
  await admin.locator("#group-form button[type=submit]").click();
  await expect(admin).toHaveURL(/\/c\/[0-9a-f-]+$/);
  const group = admin.url().split("/c/")[1];
  await visit(admin, "/rooms");
  const general = await admin.locator("li[data-room=general] a").first().getAttribute("href");
  for (const path of [
    "/",
    "/rooms",
    `/new?q=${ben.username}`,
    "/settings/profile",
    "/settings/security",
    "/admin",
    `/c/${direct}`,
    general ?? "/rooms",
    `/c/${group}?add=${ben.username.slice(0, 3)}`,
    "/no-such-page",
  ]) {
    await visit(admin, path);
    if (path.includes("?add=")) await admin.locator(".members-panel summary").click();
    found.push(...(await violations(admin, `admin ${path}`)));
  }
  await admin.context().close();
  await ben.context.close();
  return found;
}

for (const scheme of ["light", "dark"] as Scheme[]) {
  for (const locale of ["en", "zh-CN"] as Locale[]) {
    test(`axe finds no serious violation on any page (${scheme}, ${locale})`, async ({ browser }) => {
      test.setTimeout(120_000);
      expect(await sweep(browser, scheme, locale)).toEqual([]);
    });
  }
}
