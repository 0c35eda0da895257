// Integrations in the browser: a personal access token made on the tokens
// page works as `Authorization: Bearer` and stops when revoked there; an
// incoming webhook made on a group's webhooks page posts Slack's JSON into
// the conversation, live, marked as a bot's and under the payload's name.
import { expect, test, type Page } from "@playwright/test";
import { hydrated, newUser, sameOrigin, watchPageProblems } from "./support";

async function myId(page: Page): Promise<string> {
  const me = await page.request.get("/api/v1/auth/me");
  expect(me.status()).toBe(200);
  return (await me.json()).id;
}

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
