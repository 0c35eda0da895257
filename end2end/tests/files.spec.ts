import { test, expect, type Page } from "@playwright/test";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { deflateSync } from "node:zlib";
import { hydrated, newUser, openDirect } from "./support";

// Files in conversations: attached by the button, by dropping and by
// pasting; thumbnails that keep their place and open in a viewer; the other
// member downloads the very bytes; outsiders get 404; an uploaded SVG or
// HTML never runs; without JavaScript a plain form sends a file.

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Buffer): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** A PNG of one colour, `width` × `height`. */
function png(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, "ascii"), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
  const row = Buffer.concat([Buffer.from([0]), Buffer.alloc(width * 3, 0x5b)]);
  const pixels = deflateSync(Buffer.concat(Array(height).fill(row)));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", header),
    chunk("IDAT", pixels),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

const PDF = Buffer.from("%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n".repeat(40));

function sha256(bytes: Buffer): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** The stored message that carries a file named `name`. */
function withFile(page: Page, name: string) {
  return page
    .locator(".message:not(.pending)")
    .filter({ has: page.locator(`.files [aria-label$="${name}"]`) });
}

async function attach(page: Page, files: { name: string; mimeType: string; buffer: Buffer }[]) {
  await page.locator(".attach-form input[type=file]").setInputFiles(files);
}

test("a file chosen with the button: a thumbnail in its place, the viewer, the same bytes for the other member, 404 for others", async ({ browser }) => {
  test.setTimeout(60_000);
  const ann = await newUser(browser, "uploader");
  const ben = await newUser(browser, "downloader");
  const eve = await newUser(browser, "outsider");
  const id = await openDirect(ann.page, ben.username);
  await ben.page.goto(`/c/${id}`);
  await hydrated(ben.page);

  const picture = png(960, 480);
  await attach(ann.page, [
    { name: "chart.png", mimeType: "image/png", buffer: picture },
    { name: "minutes.pdf", mimeType: "application/pdf", buffer: PDF },
  ]);
  const tray = ann.page.locator(".composer-tray");
  await expect(tray.locator(".upload")).toHaveCount(2);
  await ann.page.locator("#composer-body").fill("this week's chart");
  await ann.page.locator("#composer-body").press("Enter");
  await expect(ann.page.locator(".composer-tray .upload")).toHaveCount(0);

  for (const page of [ann.page, ben.page]) {
    const message = withFile(page, "chart.png");
    await expect(message).toHaveCount(1);
    // The place is reserved from the message: half as tall as wide, 480 wide.
    const thumbnail = message.locator(".file-image img");
    await expect(thumbnail).toHaveAttribute("width", "480");
    await expect(thumbnail).toHaveAttribute("height", "240");
    await expect.poll(() => thumbnail.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(480);
    await expect(message.locator(".file-card")).toContainText("minutes.pdf");
  }

  // The viewer: opened from the thumbnail, closed with Esc.
  await withFile(ben.page, "chart.png").locator(".file-image a").click();
  const viewer = ben.page.getByRole("dialog", { name: "Image viewer" });
  await expect(viewer).toBeVisible();
  await expect.poll(() => viewer.locator("img").evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(960);
  await ben.page.keyboard.press("Escape");
  await expect(viewer).toHaveCount(0);

  // Ben downloads the PDF: the very bytes Ann sent.
  const [download] = await Promise.all([
    ben.page.waitForEvent("download"),
    withFile(ben.page, "minutes.pdf").locator(".file-card").click(),
  ]);
  expect(download.suggestedFilename()).toBe("minutes.pdf");
  expect(sha256(readFileSync(await download.path()))).toBe(sha256(PDF));

  // Eve, signed in but not in the conversation, gets nothing.
  const href = await withFile(ben.page, "minutes.pdf").locator(".file-card").getAttribute("href");
  const thumb = await withFile(ben.page, "chart.png").locator(".file-image img").getAttribute("src");
  for (const path of [href!, thumb!]) {
    const response = await eve.page.request.get(path);
    expect(response.status(), path).toBe(404);
    expect(response.headers()["content-type"]).toContain("application/problem+json");
  }
  for (const user of [ann, ben, eve]) await user.context.close();
});

test("files dropped on the conversation or pasted into the box are sent; an upload can be cancelled", async ({ browser }) => {
  test.setTimeout(60_000);
  const ann = await newUser(browser, "dropper");
  const ben = await newUser(browser, "receiver");
  const id = await openDirect(ann.page, ben.username);
  const page = ann.page;

  // Dropped: a text file.
  const dropped = await page.evaluateHandle(() => {
    const data = new DataTransfer();
    data.items.add(new File(["line one\nline two\n"], "notes.txt", { type: "text/plain" }));
    return data;
  });
  await page.dispatchEvent("section.conversation", "dragover", { dataTransfer: dropped });
  await expect(page.locator("section.conversation")).toHaveClass(/dragging/);
  await page.dispatchEvent("section.conversation", "drop", { dataTransfer: dropped });
  await expect(page.locator("section.conversation")).not.toHaveClass(/dragging/);
  await expect(page.locator(".composer-tray .upload")).toHaveCount(1);
  await page.locator("#composer button[type=submit]").click();
  await expect(withFile(page, "notes.txt")).toHaveCount(1);
  await expect(withFile(page, "notes.txt").locator(".file-card")).toContainText("TXT");

  // Pasted: a screenshot (an image on the clipboard), sent without text.
  const bytes = [...png(300, 200)];
  await page.locator("#composer-body").focus();
  await page.evaluate((bytes) => {
    const data = new DataTransfer();
    data.items.add(new File([new Uint8Array(bytes)], "screenshot.png", { type: "image/png" }));
    const event = new ClipboardEvent("paste", { clipboardData: data, bubbles: true, cancelable: true });
    document.querySelector("#composer-body")!.dispatchEvent(event);
  }, bytes);
  await expect(page.locator(".composer-tray .upload")).toHaveCount(1);
  await page.locator("#composer-body").press("Enter");
  const pasted = withFile(page, "screenshot.png");
  await expect(pasted.locator(".file-image img")).toHaveAttribute("width", "300");
  await page.goto(`/c/${id}`);
  await expect(withFile(page, "screenshot.png")).toHaveCount(1);
  await hydrated(page);

  // An upload held on its way is cancelled: nothing is sent.
  let held = 0;
  await page.route("**/api/v1/conversations/*/files?*", async (route) => {
    held += 1;
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    await route.continue().catch(() => {});
  });
  await attach(page, [{ name: "held.pdf", mimeType: "application/pdf", buffer: PDF }]);
  const upload = page.locator(".composer-tray .upload").filter({ hasText: "held.pdf" });
  await expect(upload.locator("progress")).toHaveCount(1);
  await upload.getByRole("button", { name: "Remove held.pdf" }).click();
  await expect(page.locator(".composer-tray .upload")).toHaveCount(0);
  expect(held).toBe(1);
  await expect(page.locator(".message.pending")).toHaveCount(0);
  await expect(withFile(page, "held.pdf")).toHaveCount(0);
  await ann.context.close();
  await ben.context.close();
});

test("an uploaded SVG or HTML never runs, opened or framed", async ({ browser }) => {
  test.setTimeout(60_000);
  const ann = await newUser(browser, "svgsender");
  const ben = await newUser(browser, "svgreader");
  const id = await openDirect(ann.page, ben.username);
  const svg = Buffer.from(
    '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(\'svg-onload\')"><script>alert("svg-script")</script><rect width="10" height="10"/></svg>',
  );
  const html = Buffer.from('<!doctype html><html><body><script>alert("html-script")</script><img src=x onerror="alert(\'html-img\')"></body></html>');
  await attach(ann.page, [
    { name: "logo.svg", mimeType: "image/svg+xml", buffer: svg },
    { name: "page.html", mimeType: "text/html", buffer: html },
  ]);
  await expect(ann.page.locator(".composer-tray .upload")).toHaveCount(2);
  await ann.page.locator("#composer button[type=submit]").click();
  await expect(withFile(ann.page, "logo.svg")).toHaveCount(1);

  const page = ben.page;
  await page.goto(`/c/${id}`);
  await hydrated(page);
  const dialogs: string[] = [];
  page.on("dialog", async (dialog) => {
    dialogs.push(dialog.message());
    await dialog.dismiss();
  });
  const links: string[] = [];
  for (const name of ["logo.svg", "page.html"]) {
    const card = withFile(page, name).locator(".file-card").filter({ hasText: name });
    await expect(card).toHaveCount(1);
    links.push((await card.getAttribute("href"))!);
  }
  // Shown as cards, never inline.
  await expect(page.locator(".file-image")).toHaveCount(0);
  for (const href of links) {
    // Framed, embedded and opened: a download at most, never a document.
    await page.evaluate((href) => {
      for (const tag of ["iframe", "object", "embed"]) {
        const element = document.createElement(tag);
        element.setAttribute(tag === "object" ? "data" : "src", href);
        document.body.append(element);
      }
      const img = document.createElement("img");
      img.src = href;
      document.body.append(img);
    }, href);
    const opened = await page.context().newPage();
    opened.on("dialog", async (dialog) => {
      dialogs.push(dialog.message());
      await dialog.dismiss();
    });
    await opened.goto(href).catch(() => {}); // "Download is starting"
    await opened.waitForTimeout(500);
    await opened.close();
  }
  await page.waitForTimeout(1_000);
  expect(dialogs).toEqual([]);
  await ann.context.close();
  await ben.context.close();
});

test.describe("without JavaScript", () => {
  test("a file is sent with a plain form", async ({ browser }) => {
    const ann = await newUser(browser, "plainfile", false);
    const ben = await newUser(browser, "plainfileto");
    const page = ann.page;
    await page.goto(`/new?q=${ben.username}`);
    await page.locator(`.person[data-user=${ben.username}]`).getByRole("button").click();
    await expect(page).toHaveURL(/\/c\/[0-9a-f-]+$/);
    const id = page.url().split("/c/")[1];
    await attach(page, [{ name: "plain.pdf", mimeType: "application/pdf", buffer: PDF }]);
    await page.locator(".attach-form button[type=submit]").click();
    await expect(page).toHaveURL(new RegExp(`/c/${id}$`));
    await expect(withFile(page, "plain.pdf").locator(".file-card")).toContainText("plain.pdf");
    // Nothing chosen: the reason, on the same page.
    await page.locator(".attach-form button[type=submit]").click();
    await expect(page.getByRole("alert").filter({ hasText: "choose a file" })).toBeVisible();
    await ben.page.goto(`/c/${id}`);
    await expect(withFile(ben.page, "plain.pdf")).toHaveCount(1);
    await ann.context.close();
    await ben.context.close();
  });
});
