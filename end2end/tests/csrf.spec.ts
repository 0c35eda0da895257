// Cross-site request forgery: a page of another origin cannot make the
// browser sign in or send a message, with or without JavaScript.
//
// The attacker's page is on another port of the same host. That is another
// origin but the same *site*: SameSite=Lax cookies go along with its form
// posts and fetches, exactly as they would from a sibling subdomain
// (files.example.com next to chat.example.com). Only the server's Origin
// check stands in the way. The page is served by Playwright (page.route);
// the form post itself goes to the real server.
import { test, expect, type BrowserContext, type Page } from "@playwright/test";
import { PASSWORD, newUser, uniqueName } from "./support";

/** The attacker's origin: same host as the app, another port. */
function attackerOrigin(baseURL: string): string {
  const url = new URL(baseURL);
  url.port = String(Number(url.port) + 7);
  return url.origin;
}

/** Serves `html` at `<attacker>/evil.html` in `context`; returns its URL. */
async function attackerPage(context: BrowserContext, baseURL: string, html: string): Promise<string> {
  const url = `${attackerOrigin(baseURL)}/evil.html`;
  await context.route(url, (route) => route.fulfill({ status: 200, contentType: "text/html", body: html }));
  return url;
}

/** A form on the attacker's page that posts `fields` to `action` on the app. */
function form(baseURL: string, action: string, fields: Record<string, string>): string {
  const inputs = Object.entries(fields)
    .map(([name, value]) => `<input type="hidden" name="${name}" value="${value}">`)
    .join("");
  return `<!DOCTYPE html><html><body><form method="post" action="${baseURL}${action}">${inputs}<button type="submit">Win a prize</button></form></body></html>`;
}

/** The id of the `general` room (every new account is a member). */
async function generalRoom(page: Page): Promise<string> {
  const rooms = await (await page.request.get("/api/v1/rooms")).json();
  return rooms.rooms.find((r: { name: string }) => r.name === "general").id;
}

test.describe("without JavaScript", () => {
  test.use({ javaScriptEnabled: false });

  test("a form on another origin cannot sign the browser in (login CSRF)", async ({ browser, baseURL }) => {
    // The attacker's own account, which the victim would unknowingly use.
    const attacker = await newUser(browser, "mallory", false);
    await attacker.context.close();

    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    const evil = await attackerPage(
      context,
      baseURL!,
      form(baseURL!, "/rpc/auth/sign_in", { login: attacker.username, password: PASSWORD, next: "/" }),
    );
    await page.goto(evil);
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.url().includes("/rpc/auth/sign_in")),
      page.getByRole("button", { name: "Win a prize" }).click(),
    ]);
    expect(response.status()).toBe(403);
    await expect(page.getByRole("heading", { name: "Request refused" })).toBeVisible();
    expect((await context.cookies()).map((c) => c.name)).not.toContain("cs_access");

    await page.goto("/");
    await expect(page.locator(".user-menu").getByRole("link", { name: "Sign in" })).toBeVisible();
    await context.close();
  });

  test("a form on another origin cannot send a message with the victim's cookies", async ({ browser, baseURL }) => {
    const victim = await newUser(browser, "victim", false);
    const room = await generalRoom(victim.page);
    const body = `forged ${uniqueName("no-js")}`;
    const evil = await attackerPage(
      victim.context,
      baseURL!,
      form(baseURL!, "/rpc/chat/send", { conversation_id: room, client_msg_id: uniqueName("csrf"), body }),
    );
    await victim.page.goto(evil);
    const [response] = await Promise.all([
      victim.page.waitForResponse((r) => r.url().includes("/rpc/chat/send")),
      victim.page.getByRole("button", { name: "Win a prize" }).click(),
    ]);
    // The session cookies did go along (same site): only the Origin check refused it.
    expect((await response.request().allHeaders())["cookie"]).toContain("cs_access");
    expect(response.status()).toBe(403);
    await expect(victim.page.getByRole("heading", { name: "Request refused" })).toBeVisible();

    await victim.page.goto(`/c/${room}`);
    await expect(victim.page.locator("#composer-body")).toBeVisible();
    await expect(victim.page.locator(".message .body", { hasText: body })).toHaveCount(0);
    // The victim is still signed in: the refusal did not end the session.
    await expect(victim.page.locator(".user-menu .user-name")).toHaveText(victim.username);
    await victim.context.close();
  });
});

test("a script on another origin cannot send a message with the victim's cookies", async ({ browser, baseURL }) => {
  const victim = await newUser(browser, "scripted");
  const room = await generalRoom(victim.page);
  const body = `forged ${uniqueName("js")}`;
  const fields = new URLSearchParams({ conversation_id: room, client_msg_id: uniqueName("csrf"), body });
  const evil = await attackerPage(
    victim.context,
    baseURL!,
    `<!DOCTYPE html><html><body><script>
      fetch(${JSON.stringify(`${baseURL}/rpc/chat/send`)}, {
        method: "POST", mode: "no-cors", credentials: "include",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: ${JSON.stringify(fields.toString())},
      }).then(() => { document.body.dataset.sent = "yes"; });
    </script></body></html>`,
  );
  const sent = victim.page.waitForResponse((r) => r.url().includes("/rpc/chat/send"));
  await victim.page.goto(evil);
  const response = await sent;
  expect((await response.request().allHeaders())["cookie"]).toContain("cs_access");
  expect(response.status()).toBe(403);

  await victim.page.goto(`/c/${room}`);
  await expect(victim.page.locator("#composer-body")).toBeVisible();
  await expect(victim.page.locator(".message .body", { hasText: body })).toHaveCount(0);
  await victim.context.close();
});
