// The admins the suite signs in as. Each test that reads analytics uses its
// own account, because the API allows 30 analytics calls per minute per
// admin and the suite runs faster than that.
export const ACCOUNT_ROLES = {
  owner: "owner", // the demo owner created by `serve --demo`
  viewer: "viewer",
  kpi: "analyst",
  refusal: "analyst",
  exporter: "analyst",
  links: "analyst",
  limited: "analyst",
  wrongpw: "analyst",
  unpriced: "analyst",
  asker: "viewer",
  mobile: "analyst",
  tz: "analyst", // clock.spec: the browser in Auckland
  pricer: "owner", // prices.spec: the unpriced → price → reprice flow
  pricewatch: "analyst", // prices.spec: a non-owner on the Prices page
  admins: "owner", // admins.spec: the owner who manages the others
  revoker: "owner", // admins.spec: revokes a token and an ingest key
  lastowner: "owner", // admins.spec: briefly the last enabled owner (409)
  victim: "analyst", // admins.spec: role changed, password reset, disabled, enabled
  victim2: "viewer", // admins.spec: deleted
  budgeter: "owner", // budgets.spec: creates, edits and deletes a budget on the page
  budgetowner: "owner", // budgets.spec: makes budgets over the API for the other tests
  budgetapi: "analyst", // budgets.spec: reads the API figures the page must show (its own rate limit)
  budgetwatch: "viewer", // budgets.spec: reads budgets, has no edit controls
  anomalies: "analyst", // budgets.spec: anomalies and the month's projection on the Costs tab
  budgetdown: "owner", // budgets.spec: a receiver that is down, then back
  budgetreuse: "owner", // budgets.spec: a budget made after another was deleted
  engagement: "analyst", // engagement.spec: the Users tab's engagement chart against the API
  economics: "analyst", // economics.spec: the P&L table, its summary and paging against the API
  storycosts: "viewer", // economics.spec: story costs, cohorts and the 375 px layout against the API
  econexport: "analyst", // economics.spec: the export menu's table choice
} as const;

export type AccountName = keyof typeof ACCOUNT_ROLES;

export interface Account {
  email: string;
  password: string;
  role: string;
}

export type Accounts = Record<AccountName, Account>;

/** Names of the credentials global-setup makes for the Admins page to revoke. */
export const SPARE_INGEST_KEY_NAME = "e2e-spare-ingest-key";
export const SPARE_TOKEN_NAME = "e2e-spare-token";

/** Secrets global-setup created with the CLI (shown once, like to an operator). */
export interface Secrets {
  ingestKey: string;
  spareIngestKey: string;
  spareToken: string;
}
