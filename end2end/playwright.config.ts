import { defineConfig } from "@playwright/test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

// The server under test: built by `cargo leptos build` (scripts/test.sh does it),
// started here on its own port with a fresh SQLite database in a temp directory.
const port = Number(process.env.E2E_PORT ?? 3100);
const dataDir = mkdtempSync(join(tmpdir(), "chatsphere-e2e-"));
const serverBin = process.env.E2E_SERVER_BIN ?? "target/debug/server";
// The compiled JS/WASM/CSS (a copy keeps a run safe from a rebuild meanwhile).
const siteRoot = process.env.E2E_SITE_ROOT ?? "target/site";
// A real OpenID Connect provider (npm's oauth2-mock-server) for "Sign in with …".
const oidcPort = port + 1;
const oidcIssuer = `http://127.0.0.1:${oidcPort}`;

export default defineConfig({
  testDir: "./tests",
  timeout: 30_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  forbidOnly: !!process.env.CI,
  retries: 0,
  reporter: [["list"]],
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    trace: "retain-on-failure",
    // Debian's Chromium: Playwright never downloads a browser here.
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
  },
  projects: [{ name: "chromium" }],
  webServer: [
  {
    command: `node oidc-provider.mjs ${oidcPort}`,
    url: `${oidcIssuer}/.well-known/openid-configuration`,
    reuseExistingServer: false,
    timeout: 30_000,
    stdout: "ignore",
    stderr: "pipe",
  },
  {
    command: serverBin,
    cwd: "..",
    url: `http://127.0.0.1:${port}/health`,
    reuseExistingServer: false,
    timeout: 60_000,
    // The server's warnings and errors (RUST_LOG=warn) appear in the test
    // output, prefixed [WebServer]: what a failed test needs to be explained.
    stdout: "pipe",
    stderr: "pipe",
    env: {
      LEPTOS_SITE_ADDR: `127.0.0.1:${port}`,
      LEPTOS_SITE_ROOT: siteRoot,
      CHATSPHERE_DATA_DIR: dataDir,
      DATABASE_URL: `sqlite://${dataDir}/e2e.db`,
      RUST_LOG: "warn",
      // Presence changes within a test's patience (default 15 s).
      CHATSPHERE_PRESENCE_GRACE: "1",
      // Every test signs up from one address: the budgets are tested in the API suite.
      CHATSPHERE_RATE_LIMIT_API: "100000/min",
      CHATSPHERE_RATE_LIMIT_AUTH: "100000/min",
      // The admin of the admin spec, whichever spec registers the first account.
      CHATSPHERE_ADMINS: "e2e_admin",
      // Outgoing webhooks may reach the specs' local receivers.
      CHATSPHERE_HOOK_ALLOW: "127.0.0.1/32",
      OIDC_ISSUER: oidcIssuer,
      OIDC_CLIENT_ID: "chatsphere-e2e",
      OIDC_CLIENT_SECRET: "chatsphere-e2e-secret",
      OIDC_NAME: "Test SSO",
    },
  },
  ],
});
