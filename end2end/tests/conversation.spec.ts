import { test, expect, type Page } from "@playwright/test";
import { PASSWORD, hydrated, newUser, openDirect, registerIn, sameOrigin, uniqueName, watchPageProblems } from "./support";

// The conversation view as people expect it: it stays at the newest
// message, opens at the first unread one, keeps a draft the server would
// refuse, and fits the screen — a phone's as well as a desktop's.

/** How far (px) the message pane is scrolled up from its bottom. */
async function fromBottom(page: Page): Promise<number> {
  return page.locator(".message-scroller").evaluate((el) => el.scrollHeight - el.scrollTop - el.clientHeight);
}

/** Posts `count` messages as `page`'s user through the REST API, paced
 * under the per-user budget of 10 a second. */
async function post(page: Page, id: string, prefix: string, count: number) {
  for (let i = 1; i <= count; i++) {
    const response = await page.request.post(`/api/v1/conversations/${id}/messages`, {
      data: { client_msg_id: `${prefix.replace(/[^a-z0-9]/gi, "").slice(0, 20)}-${i}`, body: `${prefix} ${i}` },
      headers: sameOrigin(page),
    });
    expect(response.status()).toBe(201);
    if (i % 8 === 0) await page.waitForTimeout(1000);
  }
}

/** `username`'s read position in conversation `id`, by the server's record. */
async function readSeq(page: Page, id: string, username: string): Promise<number> {
  const response = await page.request.get(`/api/v1/conversations/${id}/receipts`);
  expect(response.status()).toBe(200);
  const members: { user: { username: string }; read_seq: number }[] = (await response.json()).members;
  return members.find((m) => m.user.username === username)?.read_seq ?? -1;
}

test("the newest message stays in view as messages of any height arrive; away from it, a button counts them", async ({ browser }) => {
  test.setTimeout(60_000);
  const ann = await newUser(browser, "stay");
  const ben = await newUser(browser, "tall");
  const id = await openDirect(ann.page, ben.username);
  await ben.page.goto(`/c/${id}`);
  await hydrated(ben.page);
  // Enough to scroll.
  await post(ben.page, id, "filler", 24);
  await expect(ann.page.locator(".message")).toHaveCount(24);
  await expect.poll(() => fromBottom(ann.page)).toBeLessThanOrEqual(2);

  // Multi-line messages, each taller than the last: both views stay at the bottom.
  for (let i = 1; i <= 4; i++) {
    const lines = Array.from({ length: 2 + i * 2 }, (_, n) => `line ${n + 1} of message ${i}`);
    await ben.page.locator("#composer-body").fill(lines.join("\n"));
    await ben.page.locator("#composer-body").press("Enter");
    for (const page of [ann.page, ben.page]) {
      const last = page.locator(".message:not(.pending) .body").last();
      await expect(last).toContainText(`of message ${i}`);
      await expect.poll(() => fromBottom(page)).toBeLessThanOrEqual(2);
      await expect(last).toBeInViewport();
    }
  }
  // Seen where it is open: nothing unread, by the server's record.
  await expect
    .poll(async () => {
      const list: { conversations: { id: string; unread: number }[] } = await (
        await ann.page.request.get("/api/v1/conversations")
      ).json();
      return list.conversations.find((c) => c.id === id)?.unread;
    })
    .toBe(0);
  const entry = ann.page.locator(".conversations li").filter({ hasText: ben.username });
  await expect(entry.locator(".badge")).toHaveCount(0);

  // Scrolled up, Ann stays where she is; a button counts what arrives.
  const jump = ann.page.locator(".jump-latest");
  await expect(jump).toBeHidden();
  await ann.page.locator(".message-scroller").hover();
  await ann.page.mouse.wheel(0, -5_000);
  await expect(jump).toHaveText("Jump to latest");
  await expect.poll(() => ann.page.locator(".message-scroller").evaluate((el) => el.scrollTop)).toBeLessThanOrEqual(2);
  await ben.page.locator("#composer-body").fill("while you were away");
  await ben.page.locator("#composer-body").press("Enter");
  await expect(jump).toHaveText("1 new ↓");
  expect(await ann.page.locator(".message-scroller").evaluate((el) => el.scrollTop)).toBeLessThanOrEqual(2);
  await jump.click();
  await expect.poll(() => fromBottom(ann.page)).toBeLessThanOrEqual(2);
  await expect(ann.page.locator(".message .body").last()).toHaveText("while you were away");
  await expect(jump).toBeHidden();
  await ann.context.close();
  await ben.context.close();
});

test("a conversation opens at the first unread message, under a divider; only what was on screen is read", async ({ browser }) => {
  test.setTimeout(60_000);
  const ann = await newUser(browser, "back");
  const ben = await newUser(browser, "busy");
  const id = await openDirect(ann.page, ben.username);
  await ann.page.locator("#composer-body").fill("see you later");
  await ann.page.locator("#composer-body").press("Enter");
  await expect(ann.page.locator(".message:not(.pending)")).toHaveCount(1);
  await ann.page.goto("/rooms");
  await hydrated(ann.page);
  await post(ben.page, id, "unread", 62);

  // Opened from the sidebar, as people do. (A full page load renders
  // the conversation on the server, which marks it read up to the newest
  // message: that is how a browser without JavaScript reads.)
  await ann.page.locator(".conversations li").filter({ hasText: ben.username }).getByRole("link").click();
  // Every unread message and the one before: one page.
  await expect(ann.page.locator(".message")).toHaveCount(63);
  const divider = ann.page.locator(".unread-divider");
  await expect(divider).toHaveText("New messages");
  await expect(divider).toBeInViewport();
  await expect(ann.page.locator(".unread-divider + .message .body")).toHaveText("unread 1");
  await expect(ann.page.locator(".message .body").last()).not.toBeInViewport();
  const jump = ann.page.locator(".jump-latest");
  await expect(jump).toHaveText("Jump to latest");
  // Read up to what is on screen, not beyond.
  const firstUnread = Number(await ann.page.locator(".unread-divider + .message").getAttribute("data-seq"));
  const last = Number(await ann.page.locator(".message").last().getAttribute("data-seq"));
  await expect.poll(() => readSeq(ann.page, id, ann.username)).toBeGreaterThanOrEqual(firstUnread);
  expect(await readSeq(ann.page, id, ann.username)).toBeLessThan(last);

  await jump.click();
  await expect.poll(() => readSeq(ann.page, id, ann.username)).toBe(last);
  // Nothing unread: no divider, the newest message in view.
  await ann.page.reload();
  await hydrated(ann.page);
  await expect(ann.page.locator(".message .body").last()).toBeInViewport();
  await expect(divider).toHaveCount(0);
  await expect.poll(() => fromBottom(ann.page)).toBeLessThanOrEqual(2);
  await ann.context.close();
  await ben.context.close();
});

test("a message over the length limit is never sent: the draft stays, with a counter and the reason", async ({ browser }) => {
  const ann = await newUser(browser, "long");
  const ben = await newUser(browser, "limit");
  await openDirect(ann.page, ben.username);
  // Every send the page makes (the client never sends what it knows is invalid).
  const sends: string[] = [];
  ann.page.on("request", (request) => {
    if (request.url().includes("/rpc/chat/send")) sends.push(request.postData() ?? "");
  });
  const composer = ann.page.locator("#composer-body");
  const counter = ann.page.locator(".char-count");
  const tooLong = "x".repeat(4_100);
  await composer.fill(tooLong);
  await expect(counter).toHaveText("100 characters too many");
  await expect(composer).toHaveAttribute("aria-invalid", "true");
  await composer.press("Enter");
  await expect(ann.page.locator(".composer + [role=alert]")).toContainText("4000");
  await expect(composer).toHaveValue(tooLong);
  await expect(ann.page.locator(".message.pending")).toHaveCount(0);
  expect(sends).toHaveLength(0);

  // Shortened, it goes; the counter shows near the limit only.
  await composer.fill("y".repeat(3_900));
  await expect(counter).toHaveText("100 characters left");
  await expect(ann.page.locator(".composer + [role=alert]")).toBeHidden();
  await composer.press("Enter");
  await expect(ann.page.locator(".message:not(.pending) .body")).toHaveText("y".repeat(3_900));
  await expect(composer).toHaveValue("");
  await expect(counter).toHaveText("");
  expect(sends).toHaveLength(1);
  await ann.context.close();
  await ben.context.close();
});

test("the conversation fits the screen: on a phone and a desktop, light and dark, the composer and the newest message are in view and nothing overflows", async ({ browser }, testInfo) => {
  test.setTimeout(60_000);
  const ann = await newUser(browser, "fit");
  const ben = await newUser(browser, "phone");
  const id = await openDirect(ann.page, ben.username);
  await post(ben.page, id, "a message long enough to wrap on a narrow screen, and then some more words", 16);
  for (const [width, height] of [[390, 844], [1280, 800]]) {
    for (const colorScheme of ["light", "dark"] as const) {
      await ann.page.setViewportSize({ width, height });
      await ann.page.emulateMedia({ colorScheme });
      await ann.page.goto(`/c/${id}`);
      await hydrated(ann.page);
      await expect(ann.page.locator(".message")).toHaveCount(16);
      await expect(ann.page.locator("#composer-body")).toBeInViewport({ ratio: 1 });
      await expect(ann.page.locator(".message").last()).toBeInViewport();
      // Neither wider nor taller than the window: only the messages scroll.
      const page = await ann.page.evaluate(() => ({
        width: document.documentElement.scrollWidth,
        height: document.documentElement.scrollHeight,
      }));
      expect(page.width).toBeLessThanOrEqual(width);
      expect(page.height).toBeLessThanOrEqual(height);
      await ann.page.screenshot({ path: testInfo.outputPath(`conversation-${width}-${colorScheme}.png`) });
    }
  }
  // On the phone the navigation is a drawer behind the menu button, and
  // following a link closes it.
  await ann.page.setViewportSize({ width: 390, height: 844 });
  const sidebar = ann.page.locator("#sidebar");
  await expect(sidebar).toBeHidden();
  await ann.page.locator(".menu-button").click();
  await expect(sidebar).toBeVisible();
  await ann.page.screenshot({ path: testInfo.outputPath("drawer-390.png") });
  await sidebar.getByRole("link", { name: "Public rooms" }).click();
  await expect(ann.page).toHaveURL(/\/rooms$/);
  await expect(sidebar).toBeHidden();
  await ann.context.close();
  await ben.context.close();
});

test("times are the reader's local ones, with day separators and the full date on hover, also as the server renders them", async ({ browser }) => {
  test.setTimeout(60_000);
  const context = await browser.newContext({ timezoneId: "Asia/Shanghai" });
  const page = await context.newPage();
  const username = uniqueName("tz");
  await registerIn(page, username);
  const ben = await newUser(browser, "utc");
  const id = await openDirect(page, ben.username);
  await page.locator("#composer-body").fill("what time is it?");
  await page.locator("#composer-body").press("Enter");
  const time = page.locator(".message:not(.pending) time").last();
  const stamp = await time.getAttribute("datetime");
  const at = new Date(stamp!);
  const inZone = (timeZone: string) =>
    new Intl.DateTimeFormat("en-GB", { timeZone, hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).format(at);
  await expect(time).toHaveText(inZone("Asia/Shanghai"));
  await expect(time).toHaveAttribute("title", /\(UTC\+08:00\)$/);
  await expect(page.locator(".day-divider").first()).toHaveText("Today");

  // The server renders the same local time from the browser's `tz` cookie
  // (so hydration shows no jump), and the same separator.
  const html = await (await page.request.get(`/c/${id}`)).text();
  expect(html).toMatch(new RegExp(`>${inZone("Asia/Shanghai")}(<!>)?</time>`));
  // Someone in another zone sees their own clock.
  const york = await browser.newContext({ timezoneId: "America/New_York" });
  const benPage = await york.newPage();
  await benPage.goto("/login");
  await hydrated(benPage);
  await benPage.locator("#sign-in-form input[name=login]").fill(ben.username);
  await benPage.locator("#sign-in-form input[name=password]").fill(PASSWORD);
  await benPage.locator("#sign-in-form button[type=submit]").click();
  await expect(benPage.locator(".user-menu .user-name")).toHaveText(ben.username);
  await benPage.goto(`/c/${id}`);
  await hydrated(benPage);
  await expect(benPage.locator(".message time").last()).toHaveText(inZone("America/New_York"));

  // A browser whose zone is not the one its cookie names (it travelled):
  // the page hydrates in the zone the server rendered in (no hydration
  // error, whatever the day separators), then shows the browser's clock.
  const tokyo = await browser.newContext({ timezoneId: "Asia/Tokyo" });
  const traveller = await tokyo.newPage();
  const problems = await watchPageProblems(traveller);
  await registerIn(traveller, uniqueName("trip"));
  await tokyo.addCookies([{ name: "tz", value: "America%2FLos_Angeles", url: new URL(traveller.url()).origin }]);
  const trip = await openDirect(traveller, ben.username);
  await traveller.locator("#composer-body").fill("landed");
  await traveller.locator("#composer-body").press("Enter");
  await expect(traveller.locator(".message:not(.pending)")).toHaveCount(1);
  await tokyo.addCookies([{ name: "tz", value: "America%2FLos_Angeles", url: new URL(traveller.url()).origin }]);
  await traveller.goto(`/c/${trip}`);
  await hydrated(traveller);
  const landed = new Date((await traveller.locator(".message time").last().getAttribute("datetime"))!);
  const tokyoTime = new Intl.DateTimeFormat("en-GB", { timeZone: "Asia/Tokyo", hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).format(landed);
  await expect(traveller.locator(".message time").last()).toHaveText(tokyoTime);
  expect(await problems()).toEqual([]);
  await context.close();
  await york.close();
  await tokyo.close();
  await ben.context.close();
});
