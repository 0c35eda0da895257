// Integrations in the browser: a personal access token made on the tokens
// page works as `Authorization: Bearer` and stops when revoked there; an
// incoming webhook made on a group's webhooks page posts Slack's JSON into
// the conversation, live, marked as a bot's and under the payload's name; an
// outgoing webhook made there posts a member's message, signed, to a
// receiver whose reply comes back live, and the page's log says delivered.
import { createHmac } from "node:crypto";
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { expect, test, type Page } from "@playwright/test";
import { hydrated, myId, newUser, sameOrigin, watchPageProblems } from "./support";

test("a token made on the settings page works until it is revoked there", async ({ browser, playwright }) => {
  const ann = await newUser(browser, "tokann");
  const problems = await watchPageProblems(ann.page);
  await ann.page.goto("/settings/tokens");
  await hydrated(ann.page);
  await expect(ann.page.locator(".integrations")).toContainText("No tokens yet.");
  await ann.page.locator("#token-form input[name=name]").fill("nightly report");
  await ann.page.locator("#token-form input[name=post]").check();
  await ann.page.locator("#token-form button[type=submit]").click();
  const secret = (await ann.page.locator("#new-token").textContent()) ?? "";
  expect(secret).toMatch(/^csp_[A-Za-z0-9_-]{43}$/);
  await expect(ann.page.locator(".token[data-name='nightly report']")).toBeVisible();

  // A client with nothing but the token.
  const api = await playwright.request.newContext({ baseURL: new URL(ann.page.url()).origin });
  const bearer = { Authorization: `Bearer ${secret}` };
  const me = await api.get("/api/v1/auth/me", { headers: bearer });
  expect(me.status()).toBe(200);
  expect((await me.json()).username).toBe(ann.username);
  // It has been used: the page says so after a reload.
  await ann.page.reload();
  await hydrated(ann.page);
  await expect(ann.page.locator(".token[data-name='nightly report']")).not.toContainText("Never used");

  await ann.page.locator(".token[data-name='nightly report'] button[type=submit]").click();
  await expect(ann.page.locator(".token[data-name='nightly report'] .badge")).toHaveText("Revoked");
  expect((await api.get("/api/v1/auth/me", { headers: bearer })).status()).toBe(401);
  await api.dispose();

  // Her data, downloaded from her profile page.
  await ann.page.goto("/settings/profile");
  await hydrated(ann.page);
  const [download] = await Promise.all([ann.page.waitForEvent("download"), ann.page.locator("#export-link").click()]);
  const { readFileSync } = await import("node:fs");
  const data = JSON.parse(readFileSync((await download.path()) ?? "", "utf8"));
  expect(data.format).toBe("chatsphere-export/1");
  expect(data.profile.username).toBe(ann.username);
  expect(Array.isArray(data.messages)).toBe(true);
  expect(await problems()).toEqual([]);
  await ann.context.close();
});

test("a webhook made on a group's page posts Slack's JSON live into it", async ({ browser, playwright }) => {
  const ann = await newUser(browser, "hookann");
  const ben = await newUser(browser, "hookben");
  const created = await ann.page.request.post("/api/v1/conversations/groups", {
    headers: sameOrigin(ann.page),
    data: { name: "deploys", member_ids: [await myId(ben.page)] },
  });
  expect(created.status(), await created.text()).toBe(201);
  const group: string = (await created.json()).id;

  // Ben, a member, reads along; he is not offered the webhooks.
  await ben.page.goto(`/c/${group}`);
  await hydrated(ben.page);
  await expect(ben.page.locator(".webhooks-link")).toHaveCount(0);

  await ann.page.goto(`/c/${group}`);
  await hydrated(ann.page);
  await ann.page.locator(".webhooks-link").click();
  await expect(ann.page).toHaveURL(new RegExp(`/c/${group}/webhooks$`));
  await hydrated(ann.page);
  await ann.page.locator("#webhook-form input[name=name]").fill("CI 通知");
  await ann.page.locator("#webhook-form button[type=submit]").click();
  const address = (await ann.page.locator("#new-webhook").textContent()) ?? "";
  expect(address).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:\\d+/hooks/[0-9a-f-]{36}/[A-Za-z0-9_-]{43}$`));
  await expect(ann.page.locator(".webhook[data-name='CI 通知']")).toBeVisible();

  // A CI job posts to it, with nothing but the address.
  const ci = await playwright.request.newContext();
  const posted = await ci.post(address, {
    data: { text: "Deploy *finished*", username: "deploy-bot", attachments: [{ title: "Build 7", text: "all green" }] },
  });
  expect(posted.status()).toBe(200);
  expect(await posted.text()).toBe("ok");
  const last = ben.page.locator(".message").last();
  await expect(last.locator(".sender")).toHaveText("CI 通知");
  await expect(last.locator(".bot-badge")).toHaveText("Bot");
  await expect(last.locator(".label")).toHaveText("as deploy-bot");
  await expect(last.locator(".body strong").first()).toHaveText("finished");
  await expect(last.locator(".body")).toContainText("all green");

  // Deleted on the page: the address stops working.
  await ann.page.locator(".webhook[data-name='CI 通知'] button.danger").click();
  await expect(ann.page.locator(".integrations")).toContainText("No webhooks yet.");
  const after = await ci.post(address, { data: { text: "gone?" } });
  expect(after.status()).toBe(404);
  await ci.dispose();
  for (const user of [ann, ben]) await user.context.close();
});

test("an outgoing webhook made on a group's page sends a message, signed, and its reply arrives live", async ({ browser }) => {
  // The receiver: a local HTTP server (the server under test allows
  // 127.0.0.1 for hooks: CHATSPHERE_HOOK_ALLOW in playwright.config.ts).
  const received: { headers: IncomingHttpHeaders; body: string }[] = [];
  const receiver = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => (body += chunk));
    req.on("end", () => {
      received.push({ headers: req.headers, body });
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end(JSON.stringify({ text: `Deploying *${JSON.parse(body).text.split(" ")[1]}*`, username: "deployer" }));
    });
  });
  await new Promise<void>((done) => receiver.listen(0, "127.0.0.1", done));
  const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/chat`;
  const ann = await newUser(browser, "outann");
  const ben = await newUser(browser, "outben");
  const created = await ann.page.request.post("/api/v1/conversations/groups", {
    headers: sameOrigin(ann.page),
    data: { name: "releases", member_ids: [await myId(ben.page)] },
  });
  expect(created.status(), await created.text()).toBe(201);
  const group: string = (await created.json()).id;

  await ann.page.goto(`/c/${group}/webhooks`);
  await hydrated(ann.page);
  await ann.page.locator("#webhook-form input[name=name]").fill("Deployer");
  await ann.page.locator("#webhook-form input[name=url]").fill(url);
  await ann.page.locator("#webhook-form input[name=trigger_word]").fill("!deploy");
  await ann.page.locator("#webhook-form button[type=submit]").click();
  const secret = (await ann.page.locator("#new-signing-secret").textContent()) ?? "";
  expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
  await expect(ann.page.locator(".webhook[data-name='Deployer']")).toContainText(url);
  await expect(ann.page.locator(".webhook[data-name='Deployer'] .trigger")).toHaveText("!deploy");

  // Ben asks in the conversation; the receiver gets it, signed.
  await ben.page.goto(`/c/${group}`);
  await hydrated(ben.page);
  const composer = ben.page.locator("#composer-body");
  await composer.fill("!deploy main");
  await composer.press("Enter");
  await expect.poll(() => received.length).toBe(1);
  const [request] = received;
  const stamp = String(request.headers["x-chatsphere-timestamp"]);
  expect(Math.abs(Date.now() / 1000 - Number(stamp))).toBeLessThan(300);
  const expected = createHmac("sha256", secret).update(`${stamp}.${request.body}`).digest("hex");
  expect(request.headers["x-chatsphere-signature"]).toBe(`v1=${expected}`);
  expect(JSON.parse(request.body)).toMatchObject({ text: "!deploy main", trigger_word: "!deploy", channel_name: "releases" });

  // The reply arrives live, from the hook's bot, under the name it gave.
  const last = ben.page.locator(".message").last();
  await expect(last.locator(".sender")).toHaveText("Deployer");
  await expect(last.locator(".bot-badge")).toHaveText("Bot");
  await expect(last.locator(".label")).toHaveText("as deployer");
  await expect(last.locator(".body strong")).toHaveText("main");

  // The log on Ann's page.
  await ann.page.reload();
  await hydrated(ann.page);
  const log = ann.page.locator(".webhook[data-name='Deployer'] details.deliveries");
  await log.locator("summary").click();
  await expect(log.locator(".delivery.delivered")).toContainText("HTTP 200");
  expect(received).toHaveLength(1);
  receiver.close();
  for (const user of [ann, ben]) await user.context.close();
});

test("the tokens and webhooks pages fit a phone and a desktop, light and dark, in English and Chinese", async ({ browser, playwright }, testInfo) => {
  test.setTimeout(90_000);
  for (const locale of ["en-US", "zh-CN"]) {
    const context = await browser.newContext({ locale });
    const page = await context.newPage();
    const { registerIn, uniqueName } = await import("./support");
    await registerIn(page, uniqueName("fitint"));
    const created = await page.request.post("/api/v1/conversations/groups", {
      headers: sameOrigin(page),
      data: { name: "部署 deploys", member_ids: [] },
    });
    expect(created.status()).toBe(201);
    const group: string = (await created.json()).id;
    // Something to show: a token and a webhook, made through the pages.
    await page.goto("/settings/tokens");
    await hydrated(page);
    await page.locator("#token-form input[name=name]").fill("a token with a rather long name for a narrow screen");
    await page.locator("#token-form button[type=submit]").click();
    await expect(page.locator("#new-token")).toBeVisible();
    await page.goto(`/c/${group}/webhooks`);
    await hydrated(page);
    await page.locator("#webhook-form input[name=name]").fill("CI 通知");
    await page.locator("#webhook-form button[type=submit]").click();
    await expect(page.locator("#new-webhook")).toBeVisible();
    // A message from it, for the Bot mark.
    const address = (await page.locator("#new-webhook").textContent()) ?? "";
    // And an outgoing one (nothing listens there: its log shows a failure).
    await page.locator("#webhook-form input[name=name]").fill("发布 Deployer");
    await page.locator("#webhook-form input[name=url]").fill("http://127.0.0.1:9/a/rather/long/path/for/a/narrow/screen?token=abcdef");
    await page.locator("#webhook-form input[name=trigger_word]").fill("!deploy");
    await page.locator("#webhook-form button[type=submit]").click();
    await expect(page.locator("#new-signing-secret")).toBeVisible();
    // From outside, as a CI job posts (no cookies).
    const outside = await playwright.request.newContext();
    const hook = await outside.post(address, { data: { text: "Deploy *finished*", username: "deploy-bot" } });
    expect(hook.status()).toBe(200);
    await outside.dispose();
    for (const [width, height] of [[390, 844], [1280, 800]]) {
      for (const colorScheme of ["light", "dark"] as const) {
        await page.setViewportSize({ width, height });
        await page.emulateMedia({ colorScheme });
        for (const [name, path] of [["tokens", "/settings/tokens"], ["webhooks", `/c/${group}/webhooks`], ["bot", `/c/${group}`]]) {
          await page.goto(path);
          await hydrated(page);
          const scrollWidth = await page.evaluate(() => document.documentElement.scrollWidth);
          expect(scrollWidth, `${name} at ${width}`).toBeLessThanOrEqual(width);
          await page.screenshot({ path: testInfo.outputPath(`${name}-${locale}-${width}-${colorScheme}.png`) });
        }
      }
    }
    await context.close();
  }
});
