// Search: each user finds exactly what they may read, in Chinese and
// English; a result opens its conversation at the message; the box answers
// to its shortcuts; the results page works without JavaScript.
import { expect, test, type Page } from "@playwright/test";
import { hydrated, newUser, PASSWORD, sameOrigin, watchPageProblems } from "./support";

/** The signed-in user's id. */
async function myId(page: Page): Promise<string> {
  const me = await page.request.get("/api/v1/auth/me");
  expect(me.status()).toBe(200);
  return (await me.json()).id;
}

/** Posts `body` to `conversation` as the page's user; returns its seq.
 * Over the send rate it waits as told (`Retry-After`) and sends again. */
async function say(page: Page, conversation: string, body: string): Promise<number> {
  const data = { client_msg_id: crypto.randomUUID(), body };
  for (;;) {
    const sent = await page.request.post(`/api/v1/conversations/${conversation}/messages`, {
      headers: sameOrigin(page),
      data,
    });
    if (sent.status() === 429) {
      await page.waitForTimeout(1000 * Number(sent.headers()["retry-after"] ?? "1"));
      continue;
    }
    expect(sent.status(), await sent.text()).toBe(201);
    return (await sent.json()).message.seq;
  }
}

test("each user finds exactly what they may read, and a result opens at its message", async ({ browser }) => {
  const ann = await newUser(browser, "seekann");
  const ben = await newUser(browser, "seekben");
  const cat = await newUser(browser, "seekcat");
  const problems = await watchPageProblems(ben.page);
  const created = await ann.page.request.post("/api/v1/conversations/groups", {
    headers: sameOrigin(ann.page),
    data: { name: "迁移小组", member_ids: [await myId(ben.page)] },
  });
  expect(created.status(), await created.text()).toBe(201);
  const group: string = (await created.json()).id;
  const zh = "我们的数据库迁移完成了";
  const target = await say(ann.page, group, zh);
  // Enough after it that the page opens scrolled away from it.
  for (let i = 0; i < 30; i++) await say(ann.page, group, `filler ${i}`);
  await say(ann.page, group, "The database migrations finished overnight");

  // The header box: "/" focuses it; Enter searches.
  await ben.page.goto("/");
  await hydrated(ben.page);
  await ben.page.keyboard.press("/");
  await expect(ben.page.locator("#header-search")).toBeFocused();
  await ben.page.keyboard.type("数据库");
  await ben.page.keyboard.press("Enter");
  await expect(ben.page).toHaveURL(/\/search\?q=/);
  const hits = ben.page.locator(".search-hit");
  await expect(hits).toHaveCount(1);
  await expect(hits.first().locator("mark")).toHaveText("数据库");
  await expect(hits.first().locator(".search-hit-where")).toHaveText("迁移小组");
  await expect(hits.first().locator(".search-hit-text")).toHaveText(zh);

  // Ctrl+K from anywhere, even while typing elsewhere.
  await ben.page.locator("#search-q").focus();
  await ben.page.keyboard.press("Control+k");
  await expect(ben.page.locator("#header-search")).toBeFocused();

  // Chinese by any of its words; English by word forms, in the box on the page.
  await ben.page.locator("#search-q").fill("迁移");
  await ben.page.locator("#search-q").press("Enter");
  await expect(hits).toHaveCount(1);
  await expect(hits.first().locator("mark")).toHaveText("迁移");
  await ben.page.locator("#search-q").fill("migration databases");
  await ben.page.locator("#search-q").press("Enter");
  await expect(hits).toHaveCount(1);
  await expect(hits.first().locator("mark")).toHaveText(["database", "migrations"]);

  // Cat is not in the group: nothing of it, in either language.
  for (const q of ["数据库", "migration"]) {
    await cat.page.goto(`/search?q=${encodeURIComponent(q)}`);
    await expect(cat.page.locator(".search-page")).toContainText(/No messages found/);
    await expect(cat.page.locator(".search-hit")).toHaveCount(0);
  }

  // A click opens the conversation around the message, which is in view.
  await ben.page.locator("#search-q").fill("数据库");
  await ben.page.locator("#search-q").press("Enter");
  await hits.first().locator("a").click();
  await expect(ben.page).toHaveURL(new RegExp(`/c/${group}\\?around=${target}$`));
  const opened = ben.page.locator(`#m-${target}`);
  await expect(opened).toHaveClass(/target/);
  await expect(opened).toBeInViewport();
  expect(await problems()).toEqual([]);
  for (const who of [ann, ben, cat]) await who.context.close();
});

test("a filter typed in the box or set in the controls narrows the results", async ({ browser }) => {
  const ann = await newUser(browser, "filtann");
  const ben = await newUser(browser, "filtben");
  const created = await ann.page.request.post("/api/v1/conversations/groups", {
    headers: sameOrigin(ann.page),
    data: { name: "filters", member_ids: [await myId(ben.page)] },
  });
  const group: string = (await created.json()).id;
  await say(ann.page, group, "quarterly report draft");
  await say(ben.page, group, "quarterly report https://reports.example.com/q4");
  await ann.page.goto(`/search?q=${encodeURIComponent(`quarterly from:@${ben.username}`)}`);
  await hydrated(ann.page);
  await expect(ann.page.locator(".search-hit")).toHaveCount(1);
  await expect(ann.page.locator(".search-hit-who")).toHaveText(ben.username);
  await ann.page.locator("#search-q").fill("quarterly");
  await ann.page.locator(".search-filters summary").click();
  await ann.page.getByLabel("Has a link").check();
  await ann.page.locator(".search-page-form button[type=submit]").click();
  await expect(ann.page).toHaveURL(/has_link=on/);
  await expect(ann.page.locator(".search-hit")).toHaveCount(1);
  await expect(ann.page.locator(".search-hit-text")).toContainText("reports.example.com");
  // A bad date is explained, not an error page.
  await ann.page.locator("#search-q").fill("quarterly before:someday");
  await ann.page.locator("#search-q").press("Enter");
  await expect(ann.page.locator(".search-page .error")).toHaveText("before: write the day as YYYY-MM-DD.");
  for (const who of [ann, ben]) await who.context.close();
});

test("signed out, the results page asks for sign-in and comes back to the search", async ({ browser }) => {
  const ann = await newUser(browser, "backann");
  await ann.context.close();
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`/search?q=${encodeURIComponent("数据 库")}`);
  await expect(page).toHaveURL(/\/login\?next=\/search%3Fq%3D/);
  await hydrated(page);
  await page.locator("#sign-in-form input[name=login]").fill(ann.username);
  await page.locator("#sign-in-form input[name=password]").fill(PASSWORD);
  await page.locator("#sign-in-form button[type=submit]").click();
  await expect(page).toHaveURL(/\/search\?q=/);
  await expect(page.locator("#search-q")).toHaveValue("数据 库");
  await context.close();
});

test.describe("without JavaScript", () => {
  test("the results page searches, pages and links to the message", async ({ browser }) => {
    const ann = await newUser(browser, "plainseek", false);
    const page = ann.page;
    const self = await page.request.post("/api/v1/conversations/direct", {
      headers: sameOrigin(page),
      data: { user_id: await myId(page) },
    });
    const note: string = (await self.json()).id;
    for (let i = 0; i < 22; i++) await say(page, note, `备忘 ${i} about <script>alert(1)</script>`);
    await page.goto("/");
    await page.locator("#header-search").fill("备忘");
    await page.locator("#header-search").press("Enter");
    await expect(page).toHaveURL(/\/search\?q=/);
    await expect(page.locator(".search-hit")).toHaveCount(20);
    // Markup in a message is text.
    await expect(page.locator(".search-hit-text").first()).toContainText("<script>alert(1)</script>");
    await page.locator(".search-more").click();
    await expect(page.locator(".search-hit")).toHaveCount(2);
    await page.locator(".search-hit a").first().click();
    await expect(page).toHaveURL(new RegExp(`/c/${note}\\?around=2$`));
    await expect(page.locator("#m-2")).toHaveClass(/target/);
    await ann.context.close();
  });
});
