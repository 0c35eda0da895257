import { test, expect } from "@playwright/test";
import { hydrated, newUser } from "./support";

// Visual glitches people notice at once (issue 16, bug 9), measured rather
// than eyeballed: each check reads the laid-out page.

test("the session list's 'This browser' label is a small label, not a stretched block", async ({ browser }) => {
  const ann = await newUser(browser, "badge");
  await ann.page.goto("/settings/security");
  await hydrated(ann.page);
  const label = ann.page.locator(".session[data-current=true] .badge");
  await expect(label).toHaveText("This browser");
  const box = (await label.boundingBox())!;
  expect(box.height).toBeLessThanOrEqual(28);
  expect(box.width).toBeLessThanOrEqual(160);
  await ann.context.close();
});

test("search boxes are styled like the rest of the page, also in dark mode", async ({ browser }) => {
  const ann = await newUser(browser, "search");
  await ann.page.emulateMedia({ colorScheme: "dark" });
  await ann.page.goto("/new");
  await hydrated(ann.page);
  const styles = await ann.page.evaluate(() => {
    const input = getComputedStyle(document.querySelector("#people-q")!);
    const page = getComputedStyle(document.body);
    return { input: input.backgroundColor, page: page.backgroundColor, radius: input.borderTopLeftRadius, color: input.color, text: page.color };
  });
  expect(styles.input).toBe(styles.page);
  expect(styles.color).toBe(styles.text);
  expect(styles.radius).toBe("8px");
  await ann.context.close();
});

test("with a group's 'read by' list open, the ticks stay beside it, not by the last name", async ({ browser }) => {
  test.setTimeout(60_000);
  const ann = await newUser(browser, "ticka");
  const ben = await newUser(browser, "tickb");
  const cat = await newUser(browser, "tickc");
  await ann.page.goto("/new");
  await hydrated(ann.page);
  await ann.page.locator("#group-form input[name=name]").fill("ticks");
  await ann.page.locator("#group-form input[name=members]").fill(`${ben.username}, ${cat.username}`);
  await ann.page.locator("#group-form button[type=submit]").click();
  await expect(ann.page.getByRole("heading", { level: 1 })).toHaveText("ticks");
  await hydrated(ann.page);
  await ann.page.locator("#composer-body").fill("who has read this?");
  await ann.page.locator("#composer-body").press("Enter");
  for (const other of [ben, cat]) {
    await other.page.locator(".conversations li").filter({ hasText: "ticks" }).getByRole("link").click();
    await expect(other.page.locator(".message .body").last()).toHaveText("who has read this?");
  }
  const mine = ann.page.locator(".message:not(.pending)").last();
  await expect(mine.locator(".ticks")).toHaveAttribute("data-status", "read");
  await mine.locator(".read-by summary").click();
  await expect(mine.locator(".read-by li")).toHaveCount(2);
  // On the line of "read by 2", not down by the last name of the list.
  const ticks = (await mine.locator(".ticks").boundingBox())!;
  const summary = (await mine.locator(".read-by summary").boundingBox())!;
  expect(Math.abs(ticks.y - summary.y)).toBeLessThanOrEqual(8);
  for (const user of [ann, ben, cat]) await user.context.close();
});
