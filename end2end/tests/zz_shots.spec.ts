import { test } from "@playwright/test";
import { hydrated, newUser, openDirect, uniqueName, registerIn } from "./support";

for (const [w, h] of [[1280, 800], [390, 844]]) {
  for (const scheme of ["light", "dark"] as const) {
    for (const lang of ["en", "zh-CN"]) {
      test(`shots ${w} ${scheme} ${lang}`, async ({ browser }) => {
        const ann = await newUser(browser, "shotann");
        const context = await browser.newContext({ viewport: { width: w, height: h }, colorScheme: scheme, locale: lang });
        const page = await context.newPage();
        const name = uniqueName("shotben");
        await registerIn(page, name);
        await page.goto("/settings/notifications");
        await hydrated(page);
        await page.screenshot({ path: `/tmp/shots/settings-${w}-${scheme}-${lang}.png`, fullPage: true });
        const dm = await openDirect(ann.page, name);
        await ann.page.locator("#composer-body").fill("hello there");
        await ann.page.locator("#composer-body").press("Enter");
        await page.goto(`/c/${dm}`);
        await hydrated(page);
        await page.locator(".notify-menu summary").click();
        await page.screenshot({ path: `/tmp/shots/menu-${w}-${scheme}-${lang}.png` });
        await page.locator(".notify-menu .menu-item").nth(4).click();
        await page.waitForTimeout(800);
        if (w < 500) await page.locator(".menu-button").click();
        await page.screenshot({ path: `/tmp/shots/muted-${w}-${scheme}-${lang}.png` });
        await context.close();
        await ann.context.close();
      });
    }
  }
}
