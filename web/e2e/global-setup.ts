// Starts the real server for the e2e suite and returns its teardown.
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createWriteStream, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { ACCOUNT_ROLES, SPARE_INGEST_KEY_NAME, SPARE_TOKEN_NAME, type Accounts, type Secrets } from "./accounts";

const repo = resolve(import.meta.dirname, "..", "..");

function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once("error", fail);
    s.listen(0, "127.0.0.1", () => {
      const a = s.address();
      const port = typeof a === "object" && a ? a.port : 0;
      s.close(() => ok(port));
    });
  });
}

function waitForListening(proc: ChildProcess, port: number, logPath: string, timeoutMs: number): Promise<string> {
  return new Promise((ok, fail) => {
    let out = "";
    const want = `listening on http://127.0.0.1:${port}`;
    const timer = setTimeout(() => fail(new Error(`server did not print "${want}" within ${timeoutMs} ms; log: ${logPath}\n${out}`)), timeoutMs);
    const onData = (b: Buffer) => {
      out += b.toString();
      if (out.includes(want)) {
        clearTimeout(timer);
        ok(`http://127.0.0.1:${port}`);
      }
    };
    proc.stdout?.on("data", onData);
    proc.stderr?.on("data", onData);
    proc.once("exit", (code) => {
      clearTimeout(timer);
      fail(new Error(`server exited with ${code} before listening; log: ${logPath}\n${out}`));
    });
  });
}

/** The demo owner plus one admin per other entry of ACCOUNT_ROLES, all with the same password. */
function createAccounts(bin: string, db: string, dir: string, password: string): Accounts {
  const accounts = {} as Accounts;
  for (const [name, role] of Object.entries(ACCOUNT_ROLES)) {
    if (name === "owner") {
      accounts.owner = { email: "demo@codestory.local", password, role: "owner" };
      continue;
    }
    const email = `${name}@e2e.test`;
    execFileSync(bin, ["admin", "create", "--db", db, "--email", email, "--role", role, "--password-stdin"], {
      cwd: dir,
      input: `${password}\n`,
      stdio: ["pipe", "ignore", "inherit"],
    });
    accounts[name as keyof Accounts] = { email, password, role };
  }
  return accounts;
}

function cli(bin: string, dir: string, args: string[]): string {
  return execFileSync(bin, args, { cwd: dir, stdio: ["ignore", "pipe", "pipe"] })
    .toString()
    .trim();
}

function createSecrets(bin: string, db: string, dir: string, accounts: Accounts): Secrets {
  return {
    ingestKey: cli(bin, dir, ["ingest-key", "create", "--db", db, "--name", "e2e-ingest"]),
    spareIngestKey: cli(bin, dir, ["ingest-key", "create", "--db", db, "--name", SPARE_INGEST_KEY_NAME]),
    spareToken: cli(bin, dir, ["token", "create", "--db", db, "--email", accounts.admins.email, "--name", SPARE_TOKEN_NAME]),
  };
}

export default async function globalSetup() {
  const dir = mkdtempSync(join(tmpdir(), "analytics-e2e-"));
  let bin = process.env.ANALYTICS_BIN;
  if (!bin) {
    bin = join(dir, "codestory-analytics");
    console.log(`e2e: building ${bin}`);
    execFileSync("go", ["build", "-o", bin, "./cmd/codestory-analytics"], { cwd: repo, stdio: "inherit" });
  }
  const db = `sqlite:${join(dir, "a.db")}`;
  const password = `e2e-${randomBytes(12).toString("hex")}`;
  const port = await freePort();
  const logPath = join(dir, "server.log");
  const log = createWriteStream(logPath);

  // Budget webhooks go to a receiver the test runs on 127.0.0.1, which serve
  // refuses unless told; retries start fast so a test sees "delivered" soon.
  const budgetFlags = ["--allow-private-webhooks", "--webhook-retry-base", "200ms"];
  const server = spawn(bin, ["serve", "--demo", "--addr", `127.0.0.1:${port}`, "--db", db, ...budgetFlags], {
    cwd: dir,
    // No Anthropic key: Ask must answer 503 with its reason, and no test calls out.
    env: { ...process.env, ANALYTICS_DEMO_PASSWORD: password, ANTHROPIC_API_KEY: "" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  server.stdout.pipe(log);
  server.stderr.pipe(log);
  // If the runner dies without teardown, the server goes with it.
  process.once("exit", () => server.kill("SIGKILL"));
  let baseURL: string;
  try {
    baseURL = await waitForListening(server, port, logPath, 120_000);
  } catch (err) {
    server.kill("SIGKILL"); // a failed setup has no teardown: do not leave it running
    throw err;
  }
  console.log(`e2e: server at ${baseURL} (db ${db}, log ${logPath})`);

  let accounts: Accounts;
  try {
    accounts = createAccounts(bin, db, dir, password);
  } catch (err) {
    server.kill("SIGKILL");
    throw err;
  }

  // Credentials made the way an operator makes them: an ingest key the tests
  // send events with, and a spare ingest key and an API token for the Admins
  // page to revoke.
  let secrets: Secrets;
  try {
    secrets = createSecrets(bin, db, dir, accounts);
  } catch (err) {
    server.kill("SIGKILL");
    throw err;
  }

  // Workers inherit the environment the global setup leaves behind.
  process.env.E2E_BASE_URL = baseURL;
  process.env.E2E_ACCOUNTS = JSON.stringify(accounts);
  process.env.E2E_SECRETS = JSON.stringify(secrets);

  return async () => {
    if (server.exitCode == null) {
      const exited = new Promise((ok) => server.once("exit", ok));
      server.kill("SIGTERM");
      const timer = setTimeout(() => server.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    }
    log.end();
    if (!process.env.E2E_KEEP) rmSync(dir, { recursive: true, force: true });
  };
}
