import { defineConfig, devices } from "@playwright/test";

// End-to-end tests against the real Go server with demo data. global-setup
// builds the binary (or takes ANALYTICS_BIN), starts `serve --demo` on a free
// port with a temporary SQLite database, creates the test admins, and stops
// it all afterwards. Browsers are not downloaded: Debian's Chromium is used
// (apt-get install -y chromium).
export default defineConfig({
  testDir: "./e2e",
  globalSetup: "./e2e/global-setup.ts",
  outputDir: "./test-results/artifacts",
  fullyParallel: false,
  workers: 1,
  retries: 0,
  timeout: 60_000,
  expect: { timeout: 15_000 },
  forbidOnly: !!process.env.CI,
  reporter: [["list"]],
  use: {
    ...devices["Desktop Chrome"],
    viewport: { width: 1400, height: 900 },
    // The server reports days in UTC; so does the browser, so "today" agrees.
    timezoneId: "UTC",
    locale: "en-US",
    reducedMotion: "reduce",
    acceptDownloads: true,
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
      ],
    },
  },
});
