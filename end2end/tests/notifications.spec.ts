// Notifications in the browser: the permission prompt (granted in the
// test's context), a desktop notification while the page is hidden, its
// click opening the message, a muted conversation staying quiet; and the
// installable app: manifest, icons and service worker under the CSP, and
// the worker keeping no page.
import { expect, test, type Page } from "@playwright/test";
import { hydrated, newUser, openDirect, registerIn, uniqueName, watchPageProblems } from "./support";

// Records every notification the page makes, and lets the test say when
// the page is hidden and unfocused (headless pages are always "visible").
function instrument() {
  const w = window as unknown as Record<string, unknown>;
  w.__hidden = false;
  w.__shown = [];
  const Real = window.Notification;
  class Recorded extends Real {
    constructor(title: string, options?: NotificationOptions) {
      super(title, options);
      (w.__shown as unknown[]).push({ title, body: options?.body, tag: options?.tag, note: this });
    }
  }
  Object.defineProperty(Recorded, "permission", { get: () => Real.permission });
  Object.defineProperty(Recorded, "requestPermission", { value: Real.requestPermission.bind(Real) });
  w.Notification = Recorded;
  Object.defineProperty(document, "visibilityState", { get: () => (w.__hidden ? "hidden" : "visible") });
  document.hasFocus = () => !w.__hidden;
}

async function shown(page: Page): Promise<{ title: string; body: string; tag: string }[]> {
  return page.evaluate(() =>
    ((window as unknown as { __shown: { title: string; body: string; tag: string }[] }).__shown).map(
      ({ title, body, tag }) => ({ title, body, tag }),
    ),
  );
}

async function setHidden(page: Page, hidden: boolean) {
  await page.evaluate((h) => ((window as unknown as { __hidden: boolean }).__hidden = h), hidden);
}

test("a granted permission, a notification while hidden, and its click opening the message", async ({ browser }) => {
  const ann = await newUser(browser, "nann");
  const context = await browser.newContext();
  await context.addInitScript(instrument);
  const ben = await context.newPage();
  const problems = await watchPageProblems(ben);
  const benName = uniqueName("nben");
  await registerIn(ben, benName);

  // Not asked yet: the device section offers to ask; the person says yes
  // when the browser asks (the test grants it).
  await ben.goto("/settings/notifications");
  await hydrated(ben);
  await expect(ben.locator("input[name=level][value=mentions]")).toBeChecked();
  await expect(ben.locator(".device-notifications")).toHaveAttribute("data-state", "off");
  await context.grantPermissions(["notifications"]);
  await ben.locator("#enable-notifications").click();
  await expect(ben.locator(".device-notifications")).toHaveAttribute("data-state", "on");

  // A direct message while ben's page is hidden: one notification, with
  // who and what, tagged with the conversation.
  const dm = await openDirect(ann.page, benName);
  await ben.goto("/");
  await hydrated(ben);
  await setHidden(ben, true);
  await ann.page.locator("#composer-body").fill("ping from ann");
  await ann.page.locator("#composer-body").press("Enter");
  await expect.poll(() => shown(ben)).toEqual([{ title: ann.username, body: "ping from ann", tag: dm }]);

  // Looking at the page: no notification (the message still arrives).
  await setHidden(ben, false);
  await ann.page.locator("#composer-body").fill("seen live");
  await ann.page.locator("#composer-body").press("Enter");
  await expect(ben.locator(`.conversations li[data-conversation="${dm}"] .badge`)).toHaveText("2");
  expect(await shown(ben)).toHaveLength(1);

  // The click brings the conversation, at the message.
  await ben.evaluate(() =>
    (window as unknown as { __shown: { note: Notification }[] }).__shown[0].note.dispatchEvent(new Event("click")),
  );
  await expect(ben).toHaveURL(new RegExp(`/c/${dm}\\?around=1#m-1$`));
  await expect(ben.locator("#m-1")).toHaveClass(/target/);
  await expect(ben.locator("#m-1 .body")).toHaveText("ping from ann");

  // Muted for an hour from the conversation's menu: the sidebar says so,
  // and nothing notifies.
  await ben.locator(".notify-menu summary").click();
  await ben.locator(".notify-menu .menu-item").filter({ hasText: "Mute for 1 hour" }).click();
  await expect(ben.locator(".notify-menu")).toHaveAttribute("data-muted", "true");
  await expect(ben.locator(`.conversations li[data-conversation="${dm}"]`)).toHaveClass(/muted/);
  // Loaded afresh, the page says so as the server renders it, and hydrates.
  await ben.goto(`/c/${dm}`);
  await hydrated(ben);
  await expect(ben.locator(".notify-menu")).toHaveAttribute("data-muted", "true");
  await expect(ben.locator(".notify-menu .notify-state")).toContainText("Muted until");
  await ben.goto("/");
  await hydrated(ben);
  await setHidden(ben, true);
  await ann.page.locator("#composer-body").fill("while muted");
  await ann.page.locator("#composer-body").press("Enter");
  await expect(ben.locator(`.conversations li[data-conversation="${dm}"] .badge`)).toHaveText("1");
  expect(await shown(ben)).toEqual([]);
  expect(await problems(), "no hydration error, no CSP violation").toEqual([]);
  await ann.context.close();
  await context.close();
});

test("the app installs: manifest, icons and service worker, under the CSP, keeping no page", async ({ browser }) => {
  const { page, context } = await newUser(browser, "pwa");
  const violations = await watchPageProblems(page);
  await page.goto("/");
  await hydrated(page);
  const manifestHref = await page.locator("link[rel=manifest]").getAttribute("href");
  expect(manifestHref).toBe("/manifest.webmanifest");
  const manifest = await (await page.request.get(manifestHref!)).json();
  expect(manifest).toMatchObject({ name: "ChatSphere", start_url: "/", display: "standalone" });
  const sizes: string[] = [];
  for (const icon of manifest.icons) {
    const response = await page.request.get(icon.src);
    expect(response.status(), icon.src).toBe(200);
    expect(response.headers()["content-type"]).toBe("image/png");
    sizes.push(icon.sizes);
  }
  expect(sizes).toEqual(expect.arrayContaining(["192x192", "512x512"]));
  const worker = await page.request.get("/sw.js");
  expect(worker.headers()["content-security-policy"]).toContain("default-src 'self'");
  const scriptURL = await page.evaluate(async () => (await navigator.serviceWorker.ready).active?.scriptURL);
  expect(scriptURL).toMatch(/\/sw\.js$/);
  // Controlled after a reload: the app's files come through the worker.
  await page.reload();
  await hydrated(page);
  expect(await page.evaluate(() => navigator.serviceWorker.controller !== null)).toBe(true);
  const kept: string[] = await page.evaluate(async () => {
    const cache = await caches.open("chatsphere-shell-v1");
    return (await cache.keys()).map((r) => new URL(r.url).pathname);
  });
  expect(kept.some((p) => p.startsWith("/pkg/") && p.endsWith(".wasm")), kept.join()).toBe(true);
  for (const path of kept) {
    expect(path, "only the app's own files").toMatch(/^\/(pkg\/|icons\/|favicon\.svg$|manifest\.webmanifest$|offline\.html$)/);
  }
  // Offline, a page is never served from a cache: the offline page says so.
  await context.setOffline(true);
  await page.goto("/settings/profile").catch(() => undefined);
  await expect(page.locator("h1").first()).toHaveText("You are offline");
  await context.setOffline(false);
  expect(await violations()).toEqual([]);
  await context.close();
});
