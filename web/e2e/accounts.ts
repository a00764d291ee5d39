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
} as const;

export type AccountName = keyof typeof ACCOUNT_ROLES;

export interface Account {
  email: string;
  password: string;
  role: string;
}

export type Accounts = Record<AccountName, Account>;
