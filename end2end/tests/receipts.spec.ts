import { test, expect, type Page } from "@playwright/test";
import { hydrated, newUser, openDirect, sameOrigin, signInNewContext } from "./support";

// Receipts, unread counts, presence and typing between two people, each in
// their own browser context (and, for "another device", a second context).


test("ticks go sent, delivered, read as the other person comes online and opens the conversation", async ({ browser }) => {
  const ann = await newUser(browser, "tick");
  const ben = await newUser(browser, "tock");
  await ben.page.close(); // Ben is offline: nothing can be delivered to him.

  const id = await openDirect(ann.page, ben.username);
  // Offline for certain (after the presence grace): no device of his is
  // connected, so the message below has nowhere to be delivered to.
  await expect(ann.page.locator(".conversation-header .presence")).toHaveAttribute("data-online", "false", { timeout: 10_000 });
  await ann.page.locator("#composer-body").fill("are you there?");
  await ann.page.locator("#composer-body").press("Enter");
  const sent = ann.page.locator(".message:not(.pending)").last();
  const ticks = sent.locator(".ticks");
  await expect(ticks).toHaveAttribute("data-status", "sent");
  // Not delivered, by the server's own record (what the ticks are drawn
  // from): Ben's position is still before the message. Nothing to wait for.
  const seq = Number(await sent.getAttribute("data-seq"));
  expect(seq).toBeGreaterThan(0);
  const receipts = await ann.page.request.get(`/api/v1/conversations/${id}/receipts`);
  expect(receipts.status()).toBe(200);
  const members: { user: { username: string }; delivered_seq: number }[] = (await receipts.json()).members;
  const benAtServer = members.find((m) => m.user.username === ben.username);
  expect(benAtServer?.delivered_seq).toBeLessThan(seq);
  await expect(ticks).toHaveAttribute("data-status", "sent");

  // Ben opens ChatSphere (his home page): his device receives the message.
  const benPage = await ben.context.newPage();
  await benPage.goto("/");
  await hydrated(benPage);
  await expect(ticks).toHaveAttribute("data-status", "delivered");
  await expect(ticks).toHaveText("✓✓");

  // He opens the conversation: read.
  await benPage.locator(".conversations li").filter({ hasText: ann.username }).getByRole("link").click();
  await expect(benPage.locator(".message .body").last()).toHaveText("are you there?");
  await expect(ticks).toHaveAttribute("data-status", "read");
  // Ben's own message to Ann is read at once: her conversation is open.
  await hydrated(benPage);
  await benPage.locator("#composer-body").fill("yes!");
  await benPage.locator("#composer-body").press("Enter");
  await expect(benPage.locator(".message:not(.pending)").last().locator(".ticks")).toHaveAttribute("data-status", "read");
  await ann.context.close();
  await ben.context.close();
});

test("the unread badge and the title count clear on one device when read on another", async ({ browser }) => {
  const ann = await newUser(browser, "badge");
  const ben = await newUser(browser, "devices");
  const laptop = ben.page;
  // Only this conversation counts: Ben leaves the busy default room.
  expect((await laptop.request.post("/api/v1/rooms/general/leave", { headers: sameOrigin(laptop) })).status()).toBeLessThan(300);
  const id = await openDirect(ann.page, ben.username);
  for (const [i, text] of ["one", "two"].entries()) {
    const response = await ann.page.request.post(`/api/v1/conversations/${id}/messages`, {
      data: { client_msg_id: `u${i}`, body: text },
      headers: sameOrigin(ann.page),
    });
    expect(response.status()).toBe(201);
  }
  const entry = laptop.locator(".conversations li").filter({ hasText: ann.username });
  await expect(entry.locator(".badge")).toHaveText("2");
  await expect(laptop).toHaveTitle(/^\(2\) /);

  // Ben reads on his phone; the laptop's badge and title follow live.
  const phone = await signInNewContext(browser, ben.username);
  await phone.goto(`/c/${id}`);
  await hydrated(phone);
  await expect(phone.locator(".message .body").last()).toHaveText("two");
  await expect(entry.locator(".badge")).toHaveCount(0);
  await expect(laptop).not.toHaveTitle(/^\(/);
  await ann.context.close();
  await ben.context.close();
  await phone.context().close();
});

test("the presence dot turns off a moment after the other person closes their tab", async ({ browser }) => {
  const ann = await newUser(browser, "dot");
  const ben = await newUser(browser, "leaver");
  await openDirect(ann.page, ben.username);
  const presence = ann.page.locator(".conversation-header .presence");
  await expect(presence).toHaveAttribute("data-online", "true");
  await expect(presence).toContainText("online");

  await ben.page.close();
  // Offline after the grace period (1 s in these tests), with a last-seen time.
  await expect(presence).toHaveAttribute("data-online", "false", { timeout: 10_000 });
  await expect(presence).toContainText("last seen");
  // Back again.
  const again = await ben.context.newPage();
  await again.goto("/");
  await hydrated(again);
  await expect(presence).toHaveAttribute("data-online", "true");
  await ann.context.close();
  await ben.context.close();
});

test("the typing indicator shows while the other person types and clears by itself", async ({ browser }) => {
  const ann = await newUser(browser, "typer");
  const ben = await newUser(browser, "watcher");
  const id = await openDirect(ann.page, ben.username);
  await ben.page.goto(`/c/${id}`);
  await hydrated(ben.page);

  const indicator = ben.page.locator(".typing");
  await expect(indicator).toHaveText("");
  await ann.page.locator("#composer-body").pressSequentially("hello th", { delay: 50 });
  await expect(indicator).toHaveText(`${ann.username} is typing…`);
  // Ann stops typing: it clears by itself after about five seconds.
  await expect(indicator).toHaveText("", { timeout: 10_000 });

  // Typing again, then sending: it clears as the message arrives.
  await ann.page.locator("#composer-body").pressSequentially("ere", { delay: 50 });
  await expect(indicator).toHaveText(`${ann.username} is typing…`);
  await ann.page.locator("#composer-body").press("Enter");
  await expect(ben.page.locator(".message .body").last()).toHaveText("hello there");
  await expect(indicator).toHaveText("");

  // Typing right after sending shows at once, not after the pacing
  // interval (3 s) that began with the keystrokes before the message.
  await ann.page.locator("#composer-body").pressSequentially("and", { delay: 50 });
  await expect(indicator).toHaveText(`${ann.username} is typing…`, { timeout: 2_000 });
  await ann.context.close();
  await ben.context.close();
});

test("in a room, who has seen one's message is asked for on demand", async ({ browser }) => {
  const ann = await newUser(browser, "roomie");
  const ben = await newUser(browser, "reader");
  for (const user of [ann, ben]) {
    await user.page.locator(".conversations li").filter({ hasText: "#general" }).getByRole("link").click();
    await hydrated(user.page);
  }
  const text = `room news ${ann.username}`;
  await ann.page.locator("#composer-body").fill(text);
  await ann.page.locator("#composer-body").press("Enter");
  await expect(ben.page.locator(".message .body").filter({ hasText: text })).toBeVisible();
  const mine = ann.page.locator(".message:not(.pending)").filter({ hasText: text });
  await expect(mine.locator(".ticks")).toHaveCount(0);
  // Ben's page has it on screen and focused: he has read it.
  await expect
    .poll(async () => {
      const reader = ann.page.locator(".message").filter({ hasText: text }).locator(".read-by");
      await reader.locator("summary").click();
      const names = await reader.locator("li").allTextContents();
      await reader.locator("summary").click(); // close again
      return names;
    }, { timeout: 10_000 })
    .toContain(ben.username);
  await ann.context.close();
  await ben.context.close();
});
