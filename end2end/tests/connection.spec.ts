// When the connection fails under the page: a message sent meanwhile waits
// and goes once with the same id when the connection is back; a lapsed
// access token is renewed through the refresh cookie and the live
// connection resumes without losing a message.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { test, expect, request, type Page, type WebSocketRoute } from "@playwright/test";
import { PASSWORD, hydrated, newUser, openDirect, sameOrigin, uniqueName } from "./support";


/** How many messages in `page`'s list have exactly `text` as their body. */
function countOf(page: Page, text: string) {
  return page.locator(".message:not(.pending) .body").filter({ hasText: new RegExp(`^${text}$`) });
}

test("a message sent while disconnected waits, then goes once with the same id", async ({ browser }) => {
  test.setTimeout(60_000);
  const ann = await newUser(browser, "tunnel");
  const ben = await newUser(browser, "shore");
  // Ann's socket goes through Playwright, which cuts it and refuses reconnections.
  let socketsBlocked = false;
  const sockets: WebSocketRoute[] = [];
  await ann.context.routeWebSocket(/\/ws(\?|$)/, (ws) => {
    if (socketsBlocked) {
      ws.close({ code: 1013, reason: "test outage" });
      return;
    }
    ws.connectToServer();
    sockets.push(ws);
  });
  // And so do her sends: "offline" never reaches the server; "lost" reaches
  // it (the message is stored) but the answer is lost on the way back.
  let sends: "online" | "offline" | "lost" = "online";
  const keys: string[] = [];
  await ann.context.route("**/rpc/chat/send", async (route) => {
    keys.push(new URLSearchParams(route.request().postData() ?? "").get("client_msg_id") ?? "");
    if (sends === "offline") return route.abort("internetdisconnected");
    if (sends === "lost") {
      await route.fetch();
      return route.abort("connectionreset");
    }
    return route.continue();
  });
  const id = await openDirect(ann.page, ben.username);
  await expect.poll(() => sockets.length).toBeGreaterThan(0);
  await ben.page.goto(`/c/${id}`);
  await hydrated(ben.page);

  // The connection drops.
  socketsBlocked = true;
  sends = "lost";
  for (const ws of sockets) await ws.close({ code: 1001, reason: "test drop" });
  const composer = ann.page.locator("#composer-body");
  await composer.fill("stored but unanswered");
  await composer.press("Enter");
  const waiting = ann.page.locator(".message.pending[data-waiting=true]");
  await expect(waiting).toHaveCount(1);
  await expect(waiting.locator(".status")).toHaveText(/Not sent yet/);
  await expect(composer).toHaveValue("");
  // It was stored: Ben has it already.
  await expect(countOf(ben.page, "stored but unanswered")).toHaveCount(1);

  sends = "offline";
  await composer.fill("never left the tunnel");
  await composer.press("Enter");
  await expect(waiting).toHaveCount(2);
  await expect(countOf(ben.page, "never left the tunnel")).toHaveCount(0);

  // Back online: the page reconnects and sends both again, with their ids.
  sends = "online";
  socketsBlocked = false;
  await expect(ann.page.locator(".message.pending")).toHaveCount(0, { timeout: 20_000 });
  for (const page of [ann.page, ben.page]) {
    await expect(page.locator(".message:not(.pending) .body")).toHaveText([
      "stored but unanswered",
      "never left the tunnel",
    ]);
  }
  // Every attempt of a message carried the id of its first attempt.
  const distinct = [...new Set(keys)];
  expect(distinct).toHaveLength(2);
  expect(keys.length).toBeGreaterThanOrEqual(4);
  // And the server stored each once (a reload reads the history).
  await ben.page.reload();
  await expect(ben.page.locator(".message .body")).toHaveText(["stored but unanswered", "never left the tunnel"]);
  await ann.context.close();
  await ben.context.close();
});

test("another member reusing a waiting message's client id does not make it vanish", async ({ browser }) => {
  test.setTimeout(60_000);
  const ann = await newUser(browser, "owner");
  const ben = await newUser(browser, "mimic");
  // Ann stays connected, but her sends fail for a while.
  let offline = false;
  const keys: string[] = [];
  await ann.context.route("**/rpc/chat/send", async (route) => {
    keys.push(new URLSearchParams(route.request().postData() ?? "").get("client_msg_id") ?? "");
    return offline ? route.abort("internetdisconnected") : route.continue();
  });
  const id = await openDirect(ann.page, ben.username);
  offline = true;
  await ann.page.locator("#composer-body").fill("mine, eventually");
  await ann.page.locator("#composer-body").press("Enter");
  await expect(ann.page.locator(".message.pending[data-waiting=true]")).toHaveCount(1);

  // Ben (client ids travel with messages: members see them) posts under hers.
  const sent = await ben.page.request.post(`/api/v1/conversations/${id}/messages`, {
    data: { client_msg_id: keys[0], body: "not hers" },
    headers: sameOrigin(ben.page),
  });
  expect(sent.status()).toBe(201);
  await expect(ann.page.locator(".message:not(.pending) .body")).toHaveText(["not hers"]);
  // Hers is still waiting, and goes once the sends work again.
  await expect(ann.page.locator(".message.pending[data-waiting=true]")).toHaveCount(1);
  offline = false;
  for (const page of [ann.page, ben.page]) {
    if (page === ben.page) await page.goto(`/c/${id}`);
    await expect(page.locator(".message:not(.pending) .body")).toHaveText(["not hers", "mine, eventually"], {
      timeout: 20_000,
    });
  }
  await ann.context.close();
  await ben.context.close();
});

/** A free TCP port on loopback. */
async function freePort(): Promise<number> {
  return new Promise((found) => {
    const probe = createServer();
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => found(port));
    });
  });
}

/** A server of its own whose access tokens last `ttl` seconds. */
async function serverWithAccessTtl(ttl: number): Promise<{ url: string; process: ChildProcess }> {
  const root = resolve(__dirname, "../..");
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), "chatsphere-e2e-ttl-"));
  const child = spawn(resolve(root, process.env.E2E_SERVER_BIN ?? "target/debug/server"), [], {
    cwd: root,
    stdio: ["ignore", "ignore", "inherit"],
    env: {
      ...process.env,
      LEPTOS_SITE_ADDR: `127.0.0.1:${port}`,
      LEPTOS_SITE_ROOT: process.env.E2E_SITE_ROOT ?? "target/site",
      CHATSPHERE_DATA_DIR: dataDir,
      DATABASE_URL: `sqlite://${dataDir}/e2e.db`,
      CHATSPHERE_ACCESS_TTL: String(ttl),
      RUST_LOG: process.env.E2E_TTL_LOG ?? "warn",
      CHATSPHERE_RATE_LIMIT_API: "100000/min",
      CHATSPHERE_RATE_LIMIT_AUTH: "100000/min",
    },
  });
  const url = `http://127.0.0.1:${port}`;
  await expect
    .poll(async () => (await fetch(`${url}/health`).catch(() => null))?.status, { timeout: 20_000 })
    .toBe(200);
  return { url, process: child };
}

test("when the access token lapses, the page renews it and the live connection resumes without loss", async ({
  browser,
}) => {
  test.setTimeout(60_000);
  const ttl = 4;
  const server = await serverWithAccessTtl(ttl);
  try {
    const context = await browser.newContext({ baseURL: server.url });
    const page = await context.newPage();
    const closes: string[] = [];
    let opened = 0;
    await context.routeWebSocket(/\/ws(\?|$)/, (ws) => {
      opened += 1;
      ws.connectToServer().onClose((code, reason) => {
        closes.push(`${code} ${reason}`);
        return ws.close({ code, reason });
      });
    });
    const ann = uniqueName("lapse");
    await page.goto("/register");
    await hydrated(page);
    await page.locator("#register-form input[name=username]").fill(ann);
    await page.locator("#register-form input[name=password]").fill(PASSWORD);
    await page.locator("#register-form button[type=submit]").click();
    await expect(page.locator(".user-menu .user-name")).toHaveText(ann);

    // Ben writes through the REST API with a token of his own (and no cookies).
    const api = await request.newContext({ baseURL: server.url });
    const ben = await (
      await api.post("/api/v1/auth/register", {
        data: { username: uniqueName("steady"), password: PASSWORD },
      })
    ).json();
    const bearer = { authorization: `Bearer ${ben.tokens.access_token}` };
    const id = await openDirect(page, ben.user.username);
    // Every page load opened a socket; this page's is the last.
    await expect.poll(() => opened).toBeGreaterThan(0);
    const openedBefore = opened;

    // Messages every 400 ms, across the lapse of Ann's token (and of
    // Ben's, renewed the way an API client does).
    let token = ben.tokens;
    const texts: string[] = [];
    const started = Date.now();
    for (let i = 1; Date.now() - started < (ttl + 2) * 1000; i++) {
      if (i % 6 === 0) {
        token = await (
          await api.post("/api/v1/auth/token/refresh", { data: { refresh_token: token.refresh_token } })
        ).json();
        bearer.authorization = `Bearer ${token.access_token}`;
      }
      const text = `tick ${i}`;
      const sent = await api.post(`/api/v1/conversations/${id}/messages`, {
        data: { client_msg_id: `tick-${i}`, body: text },
        headers: bearer,
      });
      expect(sent.status(), text).toBe(201);
      texts.push(text);
      await page.waitForTimeout(400);
    }
    // The server ended Ann's connection at its token's expiry, and the
    // page came back on a renewed cookie.
    await expect.poll(() => closes, { timeout: 15_000 }).toContain(
      "1008 the access token has expired: renew it and reconnect",
    );
    await expect.poll(() => opened, { timeout: 15_000 }).toBeGreaterThan(openedBefore);
    // Every message, once, in order, without a reload.
    await expect(page.locator(".message .body")).toHaveText(texts, { timeout: 15_000 });
    // Still signed in, and live.
    await expect(page.locator(".user-menu .user-name")).toHaveText(ann);
    const last = await api.post(`/api/v1/conversations/${id}/messages`, {
      data: { client_msg_id: "after", body: "after the renewal" },
      headers: bearer,
    });
    expect(last.status()).toBe(201);
    await expect(page.locator(".message .body").last()).toHaveText("after the renewal");
    await api.dispose();
    await context.close();
  } finally {
    server.process.kill("SIGTERM");
  }
});
