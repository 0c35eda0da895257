import { test, expect } from "@playwright/test";
import { hydrated, myId, newUser, sameOrigin } from "./support";

test("two people chat live in a direct conversation", async ({ browser }) => {
  const ann = await newUser(browser, "ann");
  const ben = await newUser(browser, "ben");

  await ann.page.goto(`/new?q=${ben.username}`);
  await hydrated(ann.page);
  await ann.page.locator(`.person[data-user=${ben.username}]`).getByRole("button").click();
  await expect(ann.page).toHaveURL(/\/c\/[0-9a-f-]+$/);
  await expect(ann.page.getByRole("heading", { level: 1 })).toHaveText(ben.username);
  await hydrated(ann.page);

  const composer = ann.page.locator("#composer-body");
  await composer.fill("Hi Ben 👋 see https://example.com");
  await composer.press("Enter");
  const sent = ann.page.locator(".message:not(.pending)").last();
  await expect(sent.locator(".body")).toHaveText("Hi Ben 👋 see https://example.com");
  await expect(sent.locator(".body a")).toHaveAttribute("href", "https://example.com");
  await expect(composer).toHaveValue("");

  // Ben sees the conversation in his sidebar, live, with an unread badge.
  const entry = ben.page.locator(`.conversations li`).filter({ hasText: ann.username });
  await expect(entry.locator(".badge")).toHaveText("1");
  await entry.getByRole("link").click();
  await expect(ben.page.locator(".message .body").last()).toHaveText("Hi Ben 👋 see https://example.com");
  await hydrated(ben.page);

  // Ben answers; Ann sees it without reloading.
  await ben.page.locator("#composer-body").fill("Hi Ann!\nTwo lines.");
  await ben.page.locator("#composer button[type=submit]").click();
  await expect(ann.page.locator(".message .body").last()).toHaveText("Hi Ann!\nTwo lines.");

  // History survives a reload.
  await ann.page.reload();
  await expect(ann.page.locator(".message .body")).toHaveText(["Hi Ben 👋 see https://example.com", "Hi Ann!\nTwo lines."]);
  await ann.page.context().close();
  await ben.page.context().close();
});

test("a group of three chats live, and older messages load on request", async ({ browser }) => {
  // Three sign-ups, three live pages and a page of history: slow on a busy 2-core machine.
  test.setTimeout(60_000);
  const ann = await newUser(browser, "grpa");
  const ben = await newUser(browser, "grpb");
  const cat = await newUser(browser, "grpc");
  await ann.page.goto("/new");
  await hydrated(ann.page);
  await ann.page.locator("#group-form input[name=name]").fill("三人行 Trio");
  await ann.page.locator("#group-form input[name=members]").fill(`${ben.username}, @${cat.username}`);
  await ann.page.locator("#group-form button[type=submit]").click();
  await expect(ann.page.getByRole("heading", { level: 1 })).toHaveText("三人行 Trio");
  await hydrated(ann.page);
  await ann.page.locator("#composer-body").fill("hello both");
  await ann.page.locator("#composer-body").press("Enter");
  for (const other of [ben, cat]) {
    const entry = other.page.locator(".conversations li").filter({ hasText: "三人行 Trio" });
    await entry.getByRole("link").click();
    await expect(other.page.locator(".message .body").last()).toHaveText("hello both");
  }
  await hydrated(cat.page);
  await cat.page.locator("#composer-body").fill("hi from Cat");
  await cat.page.locator("#composer-body").press("Enter");
  await expect(ann.page.locator(".message .body").last()).toHaveText("hi from Cat");
  await expect(ben.page.locator(".message .body").last()).toHaveText("hi from Cat");

  // Sixty more through the REST API (the page's cookie works there too).
  const id = ann.page.url().split("/c/")[1];
  for (let i = 1; i <= 60; i++) {
    const response = await ann.page.request.post(`/api/v1/conversations/${id}/messages`, {
      data: { client_msg_id: `bulk-${i}`, body: `bulk ${i}` },
      headers: sameOrigin(ann.page),
    });
    expect(response.status()).toBe(201);
    // Paced under the per-user limit of 10 messages a second.
    if (i % 8 === 0) await ann.page.waitForTimeout(1000);
  }
  // Every one arrived live, bursts included.
  await expect(ann.page.locator(".message")).toHaveCount(62);
  await ann.page.reload();
  await hydrated(ann.page);
  await expect(ann.page.locator(".message")).toHaveCount(50);
  await ann.page.getByRole("button", { name: "Older messages" }).click();
  await expect(ann.page.locator(".message")).toHaveCount(62);
  await expect(ann.page.locator(".message .body").first()).toHaveText("hello both");
  await expect(ann.page.getByRole("button", { name: "Older messages" })).toBeHidden();

  // A member name that does not exist is a readable error.
  await ann.page.goto("/new");
  await hydrated(ann.page);
  await ann.page.locator("#group-form input[name=name]").fill("ghosts");
  await ann.page.locator("#group-form input[name=members]").fill("nobody_by_this_name");
  await ann.page.locator("#group-form button[type=submit]").click();
  await expect(ann.page.locator("#group-form [role=alert]")).toHaveText("@nobody_by_this_name was not found.");
  for (const user of [ann, ben, cat]) await user.page.context().close();
});

test("after a dropped connection the page reconnects and catches up on what it missed, each message once", async ({ browser }) => {
  const ann = await newUser(browser, "drop");
  const ben = await newUser(browser, "peer");
  // Ann's socket goes through Playwright, which can cut it and refuse reconnections.
  let blocked = false;
  let refused = 0;
  const sockets: import("@playwright/test").WebSocketRoute[] = [];
  await ann.page.context().routeWebSocket(/\/ws(\?|$)/, (ws) => {
    if (blocked) {
      refused += 1;
      ws.close({ code: 1013, reason: "test outage" });
      return;
    }
    ws.connectToServer();
    sockets.push(ws);
  });
  await ann.page.goto(`/new?q=${ben.username}`);
  await ann.page.locator(`.person[data-user=${ben.username}]`).getByRole("button").click();
  await expect(ann.page).toHaveURL(/\/c\/[0-9a-f-]+$/);
  await hydrated(ann.page);
  const id = ann.page.url().split("/c/")[1];
  await expect.poll(() => sockets.length).toBeGreaterThan(0);
  // The whole list, in order: a message shown twice (say, replayed and also
  // received live) or out of order fails, not only a missing one.
  const bodies = ann.page.locator(".message .body");

  // Live while connected.
  const send = (text: string, key: string) =>
    ben.page.request.post(`/api/v1/conversations/${id}/messages`, {
      data: { client_msg_id: key, body: text },
      headers: sameOrigin(ben.page),
    });
  expect((await send("while connected", "p1")).status()).toBe(201);
  await expect(bodies).toHaveText(["while connected"]);

  // The connection drops and cannot come back for a while; Ben writes meanwhile.
  blocked = true;
  for (const ws of sockets) await ws.close({ code: 1001, reason: "test drop" });
  expect((await send("while you were away", "p2")).status()).toBe(201);
  // The page has tried to reconnect and was refused: it is offline, and
  // nothing it shows came over a socket since.
  await expect.poll(() => refused, { timeout: 10_000 }).toBeGreaterThan(0);
  await expect(bodies).toHaveText(["while connected"]);

  // Back online: the page reconnects and the server replays what it missed
  // (resume by sequence number).
  blocked = false;
  await expect(bodies).toHaveText(["while connected", "while you were away"], { timeout: 20_000 });
  // Then live again. This arrives on the new connection after the replay,
  // so a duplicate from the replay would be on the page by now.
  expect((await send("and live again", "p3")).status()).toBe(201);
  await expect(bodies).toHaveText(["while connected", "while you were away", "and live again"]);
  await ann.page.context().close();
  await ben.page.context().close();
});

test("a message that comes while a new conversation's page is still connecting is shown once it is connected", async ({ browser }) => {
  const ann = await newUser(browser, "slow");
  const ben = await newUser(browser, "fast");
  const opened = await ann.page.request.post("/api/v1/conversations/direct", {
    data: { user_id: await myId(ben.page) },
    headers: sameOrigin(ann.page),
  });
  expect(opened.status()).toBeLessThan(300);
  const id = (await opened.json()).id;
  // Ann's page loads the empty conversation; its connection reaches the
  // server only when the test lets it.
  let release = () => {};
  const gate = new Promise<void>((resolve) => (release = resolve));
  await ann.page.context().routeWebSocket(/\/ws(\?|$)/, async (ws) => {
    await gate;
    ws.connectToServer();
  });
  await ann.page.goto(`/c/${id}`);
  await hydrated(ann.page);
  const sent = await ben.page.request.post(`/api/v1/conversations/${id}/messages`, {
    data: { client_msg_id: "early", body: "before you were connected" },
    headers: sameOrigin(ben.page),
  });
  expect(sent.status()).toBe(201);
  release();
  // Replayed on connecting (the page held the empty conversation at 0), once.
  await expect(ann.page.locator(".message .body")).toHaveText(["before you were connected"]);
  await ann.page.context().close();
  await ben.page.context().close();
});

test("a public room is joined from the directory, then posted to", async ({ browser }) => {
  const ann = await newUser(browser, "room");
  const page = ann.page;
  await page.goto("/rooms");
  await page.locator("li[data-room=tech]").getByRole("link", { name: "Open" }).click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("#tech");
  await hydrated(page);
  await page.getByRole("button", { name: "Join room" }).click();
  await page.locator("#composer-body").fill("Hello tech");
  await page.locator("#composer-body").press("Enter");
  await expect(page.locator(".message:not(.pending) .body").last()).toHaveText("Hello tech");
  await expect(page.locator(".conversations li").filter({ hasText: "#tech" })).toBeVisible();
  await page.context().close();
});

test("message bodies are shown as text, never as HTML", async ({ browser }) => {
  const ann = await newUser(browser, "xss");
  const page = ann.page;
  await page.locator(".conversations li").filter({ hasText: "#general" }).getByRole("link").click();
  await hydrated(page);
  await page.locator("#composer-body").fill('<img src=x onerror="document.body.dataset.pwned=1">');
  await page.locator("#composer-body").press("Enter");
  await expect(page.locator(".message:not(.pending) .body").last()).toHaveText('<img src=x onerror="document.body.dataset.pwned=1">');
  await expect(page.locator(".message img")).toHaveCount(0);
  await expect(page.locator("body")).not.toHaveAttribute("data-pwned", "1");
  await page.context().close();
});

test.describe("without JavaScript", () => {
  test("reading and posting work as plain pages and forms; a re-posted form is one message", async ({ browser }) => {
    const ann = await newUser(browser, "plainchat", false);
    const page = ann.page;
    await page.locator(".conversations li").filter({ hasText: "#general" }).getByRole("link").click();
    await expect(page.getByRole("heading", { level: 1 })).toHaveText("#general");
    // #general is shared with other tests: count this test's own text only.
    const text = `posted without scripts by ${ann.username}`;
    const mine = page.locator(".message .body").filter({ hasText: new RegExp(`^${text}$`) });
    const form = page.locator("form#composer");
    await page.locator("#composer-body").fill(text);
    // What the browser is about to post, read before it does: a re-post
    // (a double click, "resend" after going back) carries the same fields,
    // the same client_msg_id included.
    const action = await form.getAttribute("action");
    const fields = {
      conversation_id: await form.locator("input[name=conversation_id]").inputValue(),
      client_msg_id: await form.locator("input[name=client_msg_id]").inputValue(),
      body: text,
    };
    expect(action).toBeTruthy();
    expect(fields.client_msg_id).not.toBe("");
    await page.locator("#composer button[type=submit]").click();
    await expect(page).toHaveURL(/\/c\/[0-9a-f-]+\?done=send$/);
    await expect(mine).toHaveCount(1);

    // The same form posted again, as the browser posts it (form-encoded,
    // from this origin, asking for a page): a success, and still one message.
    const post = (form: typeof fields) =>
      page.request.post(action!, {
        form,
        headers: { ...sameOrigin(page), accept: "text/html" },
        maxRedirects: 0,
      });
    // A redirect back to the page (302 or 303: a browser follows both with a GET).
    const again = await post(fields);
    expect([302, 303]).toContain(again.status());
    expect(again.headers()["location"]).toMatch(/\/c\/[0-9a-f-]+\?done=send$/);
    await page.reload();
    await expect(mine).toHaveCount(1);

    // A different key is a different message: the count above could have moved.
    const other = await post({ ...fields, client_msg_id: `${fields.client_msg_id}-other` });
    expect([302, 303]).toContain(other.status());
    await page.reload();
    await expect(mine).toHaveCount(2);
    await page.context().close();
  });
});
