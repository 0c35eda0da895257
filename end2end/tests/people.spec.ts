// People in the conversation view: avatars and runs of messages, presence
// in the sidebar, managing a group's members, and sessions named by their
// browser.
import { test, expect, type Page } from "@playwright/test";
import { hydrated, newUser, openDirect, watchPageProblems } from "./support";

async function send(page: Page, text: string) {
  await page.locator("#composer-body").fill(text);
  await page.locator("#composer-body").press("Enter");
  await expect(page.locator(".message:not(.pending) .body").filter({ hasText: text })).toHaveCount(1);
}

async function newGroup(page: Page, name: string, members: string[], javaScript = true): Promise<string> {
  await page.goto("/new");
  if (javaScript) await hydrated(page);
  await page.locator("#group-form input[name=name]").fill(name);
  await page.locator("#group-form input[name=members]").fill(members.join(", "));
  await page.locator("#group-form button[type=submit]").click();
  await expect(page).toHaveURL(/\/c\/[0-9a-f-]+$/);
  if (javaScript) await hydrated(page);
  return page.url().split("/c/")[1];
}

test("a run of messages shows its sender's avatar and name once", async ({ browser }) => {
  const ann = await newUser(browser, "ann");
  const ben = await newUser(browser, "ben");
  // Avatars and runs render under the CSP (no inline styles), hydrated cleanly.
  const problems = await watchPageProblems(ann.page);
  await openDirect(ann.page, ben.username);
  for (const text of ["one", "two", "three"]) await send(ann.page, text);

  const messages = ann.page.locator(".messages .message:not(.pending)");
  await expect(messages).toHaveCount(3);
  // The first starts the run: avatar with initials, name and time.
  const initials = ann.username
    .split(/[\s_.-]+/)
    .filter(Boolean)
    .slice(0, 2)
    .map((word) => word[0].toUpperCase())
    .join("");
  await expect(messages.nth(0).locator(".avatar")).toHaveText(initials);
  await expect(messages.nth(0).locator(".sender")).toHaveText(ann.username);
  // The others continue it: no avatar, no name, the time still there.
  for (const i of [1, 2]) {
    await expect(messages.nth(i)).toHaveClass(/\bcontinued\b/);
    await expect(messages.nth(i).locator(".avatar, .sender")).toHaveCount(0);
    await expect(messages.nth(i).locator("time")).toHaveCount(1);
  }
  // Someone else's message starts a new run, also live on the other side.
  const benChat = await openDirect(ben.page, ann.username);
  expect(benChat).toBeTruthy();
  await send(ben.page, "four");
  await expect(messages).toHaveCount(4);
  await expect(messages.nth(3)).not.toHaveClass(/\bcontinued\b/);
  await expect(messages.nth(3).locator(".sender")).toHaveText(ben.username);
  // Same colour for the same person in both views.
  const colour = (page: Page, i: number) =>
    page.locator(".messages .message").nth(i).locator(".avatar").evaluate((el) => getComputedStyle(el).backgroundColor);
  expect(await colour(ben.page, 0)).toBe(await colour(ann.page, 0));
  expect(await colour(ann.page, 0)).not.toBe("rgba(0, 0, 0, 0)");
  // A full page load renders them on the server the same way.
  await ann.page.reload();
  await hydrated(ann.page);
  expect(await colour(ann.page, 0)).toBe(await colour(ben.page, 0));
  expect(await problems()).toEqual([]);
  await ann.context.close();
  await ben.context.close();
});

test("the sidebar shows whether the other person of a direct conversation is online", async ({ browser }) => {
  const ann = await newUser(browser, "ann");
  const ben = await newUser(browser, "ben");
  const id = await openDirect(ann.page, ben.username);
  const dot = ann.page.locator(`li[data-conversation="${id}"] .presence-dot`);
  // Ben's page is open (he is online) — then his browser closes.
  await expect(dot).toHaveClass(/\bonline\b/);
  await expect(ann.page.locator(`li[data-conversation="${id}"]`)).toContainText("(online)");
  await ben.context.close();
  await expect(dot).not.toHaveClass(/\bonline\b/, { timeout: 15_000 });
  // Rooms have no dot.
  await expect(ann.page.locator(".conversations li").filter({ hasText: "#general" }).locator(".presence-dot")).toHaveCount(0);
  await ann.context.close();
});

test("group owners add and remove members with a people picker; members leave", async ({ browser }) => {
  const ann = await newUser(browser, "ann");
  const ben = await newUser(browser, "ben");
  const cat = await newUser(browser, "cat");
  const id = await newGroup(ann.page, "planning", [ben.username]);

  const panel = ann.page.locator(".members-panel");
  await panel.locator("summary").click();
  await expect(panel.locator("summary")).toHaveText("Members (2)");
  await expect(panel.locator(`.member`).filter({ hasText: ann.username })).toContainText("owner");
  // Ben has the group open too: what Ann changes shows in his list live.
  await ben.page.goto(`/c/${id}`);
  await hydrated(ben.page);
  const benPanel = ben.page.locator(".members-panel");
  await benPanel.locator("summary").click();
  await expect(benPanel.locator("summary")).toHaveText("Members (2)");

  // Typing finds Cat; adding her puts her in the list at once.
  await panel.getByRole("searchbox", { name: "Add people" }).fill(cat.username);
  await panel.locator(`.person[data-user="${cat.username}"]`).getByRole("button", { name: "Add" }).click();
  await expect(panel.locator("summary")).toHaveText("Members (3)");
  await expect(panel.locator(".person")).toHaveCount(0);
  // Cat now has the group in her sidebar and can read it.
  await expect(cat.page.locator(`li[data-conversation="${id}"]`)).toBeVisible();
  await expect(benPanel.locator("summary")).toHaveText("Members (3)");
  await expect(benPanel.locator(".member").filter({ hasText: cat.username })).toBeVisible();

  // Ben (a member) can neither add nor remove, but can leave.
  await expect(benPanel.getByRole("searchbox", { name: "Add people" })).toHaveCount(0);
  await expect(benPanel.getByRole("button", { name: /^Remove/ })).toHaveCount(0);

  // Ann removes Cat.
  await panel.getByRole("button", { name: `Remove ${cat.username} from the group` }).click();
  await expect(panel.locator("summary")).toHaveText("Members (2)");
  await expect(cat.page.locator(`li[data-conversation="${id}"]`)).toHaveCount(0);
  await expect(benPanel.locator("summary")).toHaveText("Members (2)");

  // Ben leaves: he is taken home and the group leaves his sidebar.
  await benPanel.getByRole("button", { name: "Leave group" }).click();
  await expect(ben.page).toHaveURL(/\/$/);
  await expect(ben.page.locator(`li[data-conversation="${id}"]`)).toHaveCount(0);
  // Ann sees him go without reloading.
  await expect(panel.locator("summary")).toHaveText("Members (1)");
  for (const user of [ann, ben, cat]) await user.context.close();
});

test.describe("without JavaScript", () => {
  test.use({ javaScriptEnabled: false });

  test("the members panel works as plain forms", async ({ browser }) => {
    const ann = await newUser(browser, "ann", false);
    const ben = await newUser(browser, "ben", false);
    const id = await newGroup(ann.page, "plain", [], false);
    expect(id).toBeTruthy();
    const panel = ann.page.locator(".members-panel");
    await panel.locator("summary").click();
    await panel.getByRole("searchbox", { name: "Add people" }).fill(ben.username);
    await panel.getByRole("button", { name: "Search" }).click();
    await expect(ann.page).toHaveURL(new RegExp(`/c/${id}\\?add=`));
    await panel.locator(`.person[data-user="${ben.username}"]`).getByRole("button", { name: "Add" }).click();
    await expect(ann.page).toHaveURL(new RegExp(`/c/${id}\\?done=members$`));
    await expect(ann.page.locator(".members-panel summary")).toHaveText("Members (2)");
    await expect(ann.page.locator(".members-panel [role=status]")).toHaveText("Members updated.");
    await ann.context.close();
    await ben.context.close();
  });
});

test("sessions are named by browser and system, in the page's language", async ({ browser }) => {
  const ann = await newUser(browser, "ann");
  await ann.page.goto("/settings/security");
  await hydrated(ann.page);
  const agent = ann.page.locator(".session[data-current=true] .session-agent");
  // Headless Chromium on Linux.
  await expect(agent).toHaveText("Chrome on Linux");
  await expect(agent).toHaveAttribute("title", /HeadlessChrome/);
  await ann.page.getByRole("button", { name: "简体中文" }).click();
  await expect(ann.page.locator(".session[data-current=true] .session-agent")).toHaveText("Linux 上的 Chrome");
  await ann.context.close();
});
