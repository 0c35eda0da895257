import { test, expect, type Page, type WebSocketRoute } from "@playwright/test";
import { hydrated, newUser, openDirect, signInNewContext } from "./support";

// Editing and deleting messages: two people, and two devices of one of
// them (one offline while it happens), with and without JavaScript.

/** The stored (not pending) message whose text is `text`. */
function message(page: Page, text: string) {
  return page.locator(".message:not(.pending)").filter({ has: page.locator(".body", { hasText: text }) });
}

async function send(page: Page, text: string) {
  await page.locator("#composer-body").fill(text);
  await page.locator("#composer-body").press("Enter");
  await expect(message(page, text)).toHaveCount(1);
}

test("an edit and a deletion reach the other person, the other device, and a device that was offline", async ({ browser }) => {
  test.setTimeout(60_000);
  const ann = await newUser(browser, "editor");
  const ben = await newUser(browser, "reader");
  const id = await openDirect(ann.page, ben.username);
  await ben.page.goto(`/c/${id}`);
  await hydrated(ben.page);
  // Ann's second device, whose socket the test can cut.
  const phone = await signInNewContext(browser, ann.username);
  const sockets: WebSocketRoute[] = [];
  let blocked = false;
  await phone.context().routeWebSocket(/\/ws(\?|$)/, (ws) => {
    if (blocked) {
      ws.close({ code: 1013, reason: "test outage" });
      return;
    }
    ws.connectToServer();
    sockets.push(ws);
  });
  await phone.goto(`/c/${id}`);
  await hydrated(phone);
  await expect.poll(() => sockets.length).toBeGreaterThan(0);

  await send(ann.page, "see you at 3pm");
  await send(ann.page, "wrong room, sorry");
  for (const page of [ben.page, phone]) {
    await expect(message(page, "wrong room, sorry")).toHaveCount(1);
  }
  // Ben may not edit or delete Ann's words.
  const bens = message(ben.page, "see you at 3pm");
  await expect(bens.getByRole("link", { name: "Edit" })).toHaveCount(0);
  await expect(bens.locator("details.confirm")).toHaveCount(0);

  // The phone goes offline; meanwhile Ann edits on her laptop.
  blocked = true;
  for (const ws of sockets) await ws.close({ code: 1001, reason: "test drop" });
  const mine = message(ann.page, "see you at 3pm");
  await mine.getByRole("link", { name: "Edit" }).click();
  await expect(ann.page).toHaveURL(/\?edit=/);
  const editor = ann.page.getByRole("textbox", { name: "Edit message" });
  await expect(editor).toHaveValue("see you at 3pm");
  await editor.fill("see you at 4pm");
  await ann.page.getByRole("button", { name: "Save" }).click();
  await expect(ann.page).not.toHaveURL(/\?edit=/);
  const edited = message(ann.page, "see you at 4pm");
  await expect(edited.locator(".edited")).toHaveText("(edited)");
  // Ben sees it live, marked as edited.
  await expect(message(ben.page, "see you at 4pm").locator(".edited")).toBeVisible();
  await expect(message(ben.page, "see you at 3pm")).toHaveCount(0);

  // And deletes the other one, after confirming.
  const wrong = message(ann.page, "wrong room, sorry");
  await wrong.locator("summary", { hasText: "Delete" }).click();
  await expect(wrong.getByText("Delete this message for everyone?")).toBeVisible();
  await wrong.getByRole("button", { name: "Delete" }).click();
  for (const page of [ann.page, ben.page]) {
    await expect(page.locator(".message .body.deleted")).toHaveText("This message was deleted.");
    await expect(page.getByText("wrong room, sorry")).toHaveCount(0);
  }

  // The phone comes back: it catches up on both without a reload.
  blocked = false;
  await expect(message(phone, "see you at 4pm")).toHaveCount(1, { timeout: 20_000 });
  await expect(phone.locator(".message .body.deleted")).toHaveCount(1);
  await expect(phone.getByText("wrong room, sorry")).toHaveCount(0);
  // And the record agrees after a reload.
  await ben.page.reload();
  await expect(message(ben.page, "see you at 4pm").locator(".edited")).toBeVisible();
  await expect(ben.page.locator(".message .body.deleted")).toHaveCount(1);
  await ann.context.close();
  await ben.context.close();
  await phone.context().close();
});

test("Escape leaves editing without saving; an empty edit keeps the message", async ({ browser }) => {
  const ann = await newUser(browser, "escape");
  const ben = await newUser(browser, "other");
  await openDirect(ann.page, ben.username);
  await send(ann.page, "keep me");
  // Up in the empty composer opens one's last message for editing, as in Slack.
  await ann.page.locator("#composer-body").press("ArrowUp");
  const editor = ann.page.getByRole("textbox", { name: "Edit message" });
  await editor.fill("changed my mind");
  await editor.press("Escape");
  await expect(ann.page).not.toHaveURL(/\?edit=/);
  await expect(message(ann.page, "keep me")).toHaveCount(1);
  await expect(message(ann.page, "keep me").locator(".edited")).toHaveCount(0);
  await ann.context.close();
  await ben.context.close();
});

test.describe("without JavaScript", () => {
  test("edit and delete work as plain forms, in Chinese too", async ({ browser }) => {
    const ann = await newUser(browser, "plain", false);
    const ben = await newUser(browser, "plainer");
    const page = ann.page;
    await page.goto(`/new?q=${ben.username}`);
    await page.locator(`.person[data-user=${ben.username}]`).getByRole("button").click();
    await expect(page).toHaveURL(/\/c\/[0-9a-f-]+$/);
    await page.locator("#composer-body").fill("plain text");
    await page.locator("#composer button[type=submit]").click();
    await expect(message(page, "plain text")).toHaveCount(1);

    await message(page, "plain text").getByRole("link", { name: "Edit" }).click();
    await page.getByRole("textbox", { name: "Edit message" }).fill("plain text, edited");
    await page.getByRole("button", { name: "Save" }).click();
    await expect(message(page, "plain text, edited").locator(".edited")).toBeVisible();

    // A refused edit (too long) comes back as an error, worded by the server.
    await message(page, "plain text, edited").getByRole("link", { name: "Edit" }).click();
    await page.getByRole("textbox", { name: "Edit message" }).evaluate((el: HTMLTextAreaElement) => {
      el.removeAttribute("maxlength");
      el.value = "x".repeat(4001);
    });
    await page.getByRole("button", { name: "Save" }).click();
    await expect(page.getByRole("alert").filter({ hasText: /4,?000/ })).toBeVisible();
    await expect(message(page, "plain text, edited")).toHaveCount(1);

    const target = message(page, "plain text, edited");
    await target.locator("summary", { hasText: "Delete" }).click();
    await target.getByRole("button", { name: "Delete" }).click();
    await expect(page.locator(".message .body.deleted")).toHaveText("This message was deleted.");

    // The same page in Chinese.
    await ann.context.addCookies([{ name: "lang", value: "zh-CN", url: page.url() }]);
    await page.reload();
    await expect(page.locator(".message .body.deleted")).toHaveText("此消息已删除。");
    await ann.context.close();
    await ben.context.close();
  });
});
