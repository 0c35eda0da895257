// Cross-site request forgery: a page of another origin cannot make the
// browser sign in or send a message, with or without JavaScript.
//
// The attacker's page is served by a small HTTP server of its own on
// another port of the same host. That is another origin but the same
// *site*: SameSite=Lax cookies go along with its form posts and fetches,
// exactly as they would from a sibling subdomain (files.example.com next to
// chat.example.com). Only the server's Origin check stands in the way.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { test, expect, type Page } from "@playwright/test";
import { PASSWORD, newUser, uniqueName } from "./support";

/** The attacker's site: serves `html` at `/evil.html` on 127.0.0.1 (any free port). */
async function attackerSite(html: string): Promise<{ url: string; server: Server }> {
  const server = createServer((_, response) => {
    response.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    response.end(html);
  });
  await new Promise<void>((ready) => server.listen(0, "127.0.0.1", ready));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/evil.html`, server };
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
    const evil = await attackerSite(
      form(baseURL!, "/rpc/auth/sign_in", { login: attacker.username, password: PASSWORD, next: "/" }),
    );
    await page.goto(evil.url);
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
    evil.server.close();
  });

  test("a form on another origin cannot send a message with the victim's cookies", async ({ browser, baseURL }) => {
    const victim = await newUser(browser, "victim", false);
    const room = await generalRoom(victim.page);
    const body = `forged ${uniqueName("no-js")}`;
    const evil = await attackerSite(
      form(baseURL!, "/rpc/chat/send", { conversation_id: room, client_msg_id: uniqueName("csrf"), body }),
    );
    await victim.page.goto(evil.url);
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
    evil.server.close();
  });
});

test("a script on another origin cannot send a message with the victim's cookies", async ({ browser, baseURL }) => {
  const victim = await newUser(browser, "scripted");
  const room = await generalRoom(victim.page);
  const body = `forged ${uniqueName("js")}`;
  const fields = new URLSearchParams({ conversation_id: room, client_msg_id: uniqueName("csrf"), body });
  const evil = await attackerSite(
    `<!DOCTYPE html><html><body><script>
      fetch(${JSON.stringify(`${baseURL}/rpc/chat/send`)}, {
        method: "POST", mode: "no-cors", credentials: "include",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: ${JSON.stringify(fields.toString())},
      });
    </script></body></html>`,
  );
  const sent = victim.page.waitForResponse((r) => r.url().includes("/rpc/chat/send"));
  await victim.page.goto(evil.url);
  const response = await sent;
  expect(response.status()).toBe(403);

  await victim.page.goto(`/c/${room}`);
  await expect(victim.page.locator("#composer-body")).toBeVisible();
  await expect(victim.page.locator(".message .body", { hasText: body })).toHaveCount(0);
  await victim.context.close();
  evil.server.close();
});
