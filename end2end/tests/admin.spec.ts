// The admin view (/admin): live counts, the audit log, disabling an account
// (the person's open page is signed out at once) and enabling it again,
// creating and deleting public rooms; and nobody else gets in. The admin is
// `e2e_admin`, named by CHATSPHERE_ADMINS in playwright.config.ts, so this
// does not depend on which spec registers the first account.
import { expect, test, type Browser, type Page, type WebSocket } from "@playwright/test";
import {
  ADMIN,
  ensureAdminAccount,
  hydrated,
  newUser,
  PASSWORD,
  registerIn,
  sameOrigin,
  signInNewContext,
  uniqueName,
  watchPageProblems,
} from "./support";

/** The admin signed in on a new context, on /admin. */
async function adminPage(browser: Browser): Promise<Page> {
  await ensureAdminAccount(browser);
  const page = await signInNewContext(browser, ADMIN);
  await page.goto("/admin");
  await hydrated(page);
  return page;
}

/** A figure of the live panel, as a number. */
async function figure(page: Page, name: "online" | "connections" | "messages"): Promise<number> {
  return Number(await page.locator(`[data-live=${name}]`).textContent());
}

test("someone who is not an admin reads 'Admins only' and sees no Admin link", async ({ browser }) => {
  // Not the installation's first account (which is an admin).
  await ensureAdminAccount(browser);
  const { page, context } = await newUser(browser, "plain");
  await expect(page.locator(".sidebar a[href='/admin']")).toHaveCount(0);
  const response = await page.goto("/admin");
  expect(response?.status()).toBe(403);
  await hydrated(page);
  await expect(page.locator("[data-admins-only]")).toHaveText(/Admins only/);
  await expect(page.locator(".admin-view")).toHaveCount(0);
  await expect(page.locator(".sidebar a[href='/admin']")).toHaveCount(0);
  await context.close();
});

test("the admin sees who is online and a message sent shows in messages per minute", async ({ browser }) => {
  test.setTimeout(90_000);
  const admin = await adminPage(browser);
  const violations = await watchPageProblems(admin);
  await admin.reload();
  await hydrated(admin);
  await expect(admin.locator(".sidebar a[href='/admin']")).toBeVisible();
  // The admin's own page holds a live connection: online within a refresh (10 s).
  await expect.poll(() => figure(admin, "online"), { timeout: 25_000 }).toBeGreaterThanOrEqual(1);
  await expect.poll(() => figure(admin, "connections"), { timeout: 25_000 }).toBeGreaterThanOrEqual(1);
  await expect(admin.locator(".chart-svg .chart-bar")).toHaveCount(30);
  // Messages of the last 30 minutes (the figure counts the last 60 s only,
  // so earlier messages may drop out of it meanwhile).
  const charted = () =>
    admin
      .locator(".chart-bar")
      .evaluateAll((bars) => bars.reduce((sum, bar) => sum + Number(bar.getAttribute("data-messages")), 0));
  const before = await charted();

  const { page, context, username } = await newUser(browser, "talker");
  await page.locator(".conversations li").filter({ hasText: "#general" }).getByRole("link").click();
  await hydrated(page);
  await page.locator("#composer-body").fill(`counted, from ${username}`);
  await page.locator("#composer-body").press("Enter");
  await expect(page.locator(".message:not(.pending) .body").last()).toHaveText(`counted, from ${username}`);

  // The open admin page reads the counts again by itself.
  await expect.poll(charted, { timeout: 25_000 }).toBeGreaterThan(before);
  expect(await figure(admin, "messages")).toBeGreaterThanOrEqual(1);
  expect(await violations()).toEqual([]);
  await context.close();
  await admin.context().close();
});

test("the audit log lists a user's sign-in, filtered by kind and user", async ({ browser }) => {
  const { context, username } = await newUser(browser, "audited");
  const second = await signInNewContext(browser, username);
  const admin = await adminPage(browser);
  const audit = admin.locator("#audit");
  await audit.locator("select[name=kind]").selectOption("sign_in");
  await audit.locator("input[name=user]").fill(username);
  await audit.getByRole("button", { name: "Filter" }).click();
  await expect(admin).toHaveURL(/kind=sign_in/);
  await hydrated(admin);
  const rows = admin.locator(".audit-table tbody tr");
  // Registering signs in too: two sign-ins, newest first, nothing else.
  await expect(rows).toHaveCount(2);
  await expect(admin.locator(".audit-table tbody tr[data-kind=sign_in]")).toHaveCount(2);
  await expect(rows.first().locator("[data-column=user]")).toHaveText(username);
  await expect(rows.first()).toContainText("Signed in");
  await expect(rows.first()).toContainText("127.0.0.1");
  await expect(rows.first()).toContainText('"method":"password"');
  await expect(rows.last()).toContainText('"method":"registration"');
  await expect(audit.locator("select[name=kind]")).toHaveValue("sign_in");
  await context.close();
  await second.context().close();
  await admin.context().close();
});

test("disabling an account ends its open page at once; enabled again, it signs in", async ({ browser }) => {
  test.setTimeout(60_000);
  const context = await browser.newContext();
  const page = await context.newPage();
  const sockets: WebSocket[] = [];
  page.on("websocket", (socket) => sockets.push(socket));
  const username = uniqueName("victim");
  await registerIn(page, username);
  await page.locator(".conversations li").filter({ hasText: "#general" }).getByRole("link").click();
  await hydrated(page);
  await expect.poll(() => sockets.filter((s) => !s.isClosed()).length).toBeGreaterThan(0);
  const socket = sockets.find((s) => !s.isClosed())!;
  // A second device without JavaScript (no live connection): it learns on its next page.
  const laptop = await (await browser.newContext({ javaScriptEnabled: false })).newPage();
  await laptop.goto("/login");
  await laptop.locator("#sign-in-form input[name=login]").fill(username);
  await laptop.locator("#sign-in-form input[name=password]").fill(PASSWORD);
  await laptop.locator("#sign-in-form button[type=submit]").click();
  await expect(laptop.locator(".user-menu .user-name")).toHaveText(username);

  const admin = await adminPage(browser);
  await admin.goto(`/admin?q=${username}`);
  await hydrated(admin);
  const row = admin.locator(`.account[data-user="${username}"]`);
  // Disabling asks first.
  const confirmDisable = row.getByRole("button", { name: "Disable now" });
  await expect(confirmDisable).toBeHidden();
  await row.locator("summary", { hasText: "Disable" }).click();
  await expect(row.locator("details.confirm p")).toContainText("signed out on every device");
  await confirmDisable.click();
  await expect(row).toHaveAttribute("data-disabled", "true");

  // Their connection is closed and their page says why, without a reload.
  await expect.poll(() => socket.isClosed(), { timeout: 5_000 }).toBe(true);
  await expect(page).toHaveURL(/\/login\?/);
  await expect(page.locator("#sign-in-form .error")).toHaveText(/this account has been disabled/);
  await expect(page.locator(".user-menu a[href='/login']")).toBeVisible();
  // The other device, loading a page: signed out, with the reason.
  await laptop.goto("/settings/profile");
  await expect(laptop).toHaveURL(/\/login\?next=\/settings\/profile$/);
  await expect(laptop.locator("#sign-in-form .error")).toHaveText(/this account has been disabled/);
  await laptop.goto("/rooms");
  await expect(laptop.locator(".user-menu a[href='/login']")).toBeVisible();
  await laptop.context().close();
  // Signing in is refused, with the same message.
  await page.locator("#sign-in-form input[name=login]").fill(username);
  await page.locator("#sign-in-form input[name=password]").fill(PASSWORD);
  await page.locator("#sign-in-form button[type=submit]").click();
  await expect(page.locator("#sign-in-form .error")).toHaveText(/this account has been disabled/);

  // Admins cannot disable themselves: the service's reason is shown.
  await admin.goto(`/admin?q=${ADMIN}`);
  await hydrated(admin);
  const own = admin.locator(`.account[data-user="${ADMIN}"]`);
  await own.locator("summary", { hasText: "Disable" }).click();
  await own.getByRole("button", { name: "Disable now" }).click();
  await expect(admin.locator("#accounts [role=status]")).toHaveText(/cannot disable or demote their own account/);

  // The audit log names the admin who did it.
  await admin.goto(`/admin?kind=user_disabled&user=${username}`);
  await expect(admin.locator(".audit-table tbody tr [data-column=actor]")).toHaveText([ADMIN]);

  await admin.goto(`/admin?q=${username}`);
  await hydrated(admin);
  await row.getByRole("button", { name: "Enable" }).click();
  await expect(row).toHaveAttribute("data-disabled", "false");
  await page.locator("#sign-in-form button[type=submit]").click();
  await expect(page.locator(".user-menu .user-name")).toHaveText(username);
  await context.close();
  await admin.context().close();
});

test("a room the admin creates is listed in /rooms, and gone once deleted", async ({ browser }) => {
  const admin = await adminPage(browser);
  const violations = await watchPageProblems(admin);
  await admin.reload();
  await hydrated(admin);
  const name = uniqueName("room");
  const visitor = await (await browser.newContext()).newPage();
  try {
    await admin.locator("#create-room-form input[name=name]").fill(name);
    await admin.locator("#create-room-form input[name=topic]").fill("Made by the admin test");
    await admin.locator("#create-room-form button[type=submit]").click();
    const row = admin.locator(`.admin-room[data-room="${name}"]`);
    await expect(row).toBeVisible();
    await expect(admin.locator("#rooms [role=status]")).toHaveText("Room created.");
    // The form starts over; clearing a name is not an error before submitting.
    await expect(admin.locator("#create-room-form input[name=name]")).toHaveValue("");
    await expect(admin.locator("#create-room-form input[name=topic]")).toHaveValue("");
    await admin.locator("#create-room-form input[name=name]").fill("x y");
    await expect(admin.locator("#create-room-form [data-hint=name]")).not.toBeEmpty();
    await admin.locator("#create-room-form input[name=name]").fill("");
    await expect(admin.locator("#create-room-form [data-hint=name]")).toBeEmpty();

    await row.locator("input[name=topic]").fill("Topic changed by the admin");
    await row.getByRole("button", { name: "Save topic" }).click();
    await expect(admin.locator("#rooms [role=status]")).toHaveText("Topic saved.");

    await visitor.goto("/rooms");
    await expect(visitor.locator(`li[data-room="${name}"]`)).toContainText("Topic changed by the admin");

    // Deleting asks first.
    const confirm = row.getByRole("button", { name: "Delete for good" });
    await expect(confirm).toBeHidden();
    await row.locator("summary").click();
    await confirm.click();
    await expect(row).toHaveCount(0);
    await expect(admin.locator("#rooms [role=status]")).toHaveText("Room deleted.");
    await visitor.reload();
    await expect(visitor.locator("li[data-room=general]")).toBeVisible();
    await expect(visitor.locator(`li[data-room="${name}"]`)).toHaveCount(0);
    expect(await violations()).toEqual([]);
  } finally {
    // Other specs count the rooms: never leave this one behind.
    const leftover = admin.locator(`.admin-room[data-room="${name}"]`);
    if ((await leftover.count()) > 0) {
      const id = await leftover.getAttribute("data-room-id");
      await admin.request.post("/rpc/admin/delete_room", { form: { room_id: id ?? "" }, headers: sameOrigin(admin) });
    }
    await visitor.context().close();
    await admin.context().close();
  }
});
