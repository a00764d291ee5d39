// JSON shapes of the Go API (tools.go). Field names are the wire names.
// Money: *_cents are cents, cost/revenue/cost_dollars are dollars; both are
// decimal numbers that may carry sub-cent digits.

export type Role = "viewer" | "analyst" | "owner";
export type Permission =
  | "VIEW_ANALYTICS"
  | "EXPORT_DATA"
  | "MANAGE_ADMINS"
  | "VIEW_AUDIT"
  | "MANAGE_PRICES"
  | "MANAGE_BUDGETS";

export interface Session {
  email: string;
  role: Role;
  permissions: Permission[];
  csrf_token: string;
  /** Today in the server's reporting zone (YYYY-MM-DD): the dashboard's "today". */
  today?: string;
  /** The reporting zone's IANA name, e.g. "UTC". */
  timezone?: string;
}

export interface Period {
  start: string;
  end: string;
  days: number;
  timezone: string;
}

export interface DashboardTotals {
  new_users: number;
  active_users: number;
  churned_users: number;
  stories_created: number;
  stories_completed: number;
  stories_failed: number;
  total_chapters: number;
  total_audio_minutes: number;
  api_requests: number;
  api_errors: number;
  unpriced_calls: number;
  total_cost_cents: number;
  revenue_cents: number;
  profit_margin: number;
}

export interface DashboardDay {
  date: string;
  new_users: number;
  active_users: number;
  stories: number;
  cost: number;
  revenue: number;
}

export interface DashboardMetrics {
  totals: DashboardTotals;
  daily: DashboardDay[];
  period: Period;
}

export type Service = "anthropic" | "elevenlabs" | "s3";

export interface ServiceCost {
  cost_cents: number;
  cost_dollars: number;
  percentage: number;
}

export interface CostDay {
  date: string;
  anthropic: number;
  elevenlabs: number;
  s3: number;
}

export interface ModelCost {
  service: Service;
  model: string;
  calls: number;
  errors: number;
  unpriced_calls: number;
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
  characters: number;
  bytes_transferred: number;
  requests: number;
  cost_cents: number;
  cost_dollars: number;
  percentage: number;
  /** The catalog entries (or the caller's own cost) that priced these calls. */
  priced_by?: PriceRef[] | null;
}

/** Which price priced a call: a catalog entry, or "caller" for an event's own cost_cents. */
export interface PriceRef {
  model?: string;
  effective_from: string;
  source: PriceSource | "caller";
}

export interface OperationCost {
  service: Service;
  operation: string;
  calls: number;
  errors: number;
  unpriced_calls: number;
  cost_cents: number;
  cost_dollars: number;
  percentage: number;
}

export interface CostBreakdown {
  breakdown: {
    anthropic: ServiceCost;
    elevenlabs: ServiceCost;
    s3: ServiceCost;
    total: { cost_cents: number; cost_dollars: number };
  };
  daily: CostDay[];
  by_model: ModelCost[];
  by_operation: OperationCost[];
  unpriced_calls: number;
  period: Period;
}

export interface GrowthDay {
  date: string;
  new_users: number;
  total_users: number;
  active_users: number;
  churned: number;
}

export interface UserGrowth {
  daily: GrowthDay[];
  growth_rate: number;
  total_new: number;
  total_churned: number;
  users_before: number;
  users_at_end: number;
  active_users: number;
  period: Period;
}

/** One day of GET /admin/analytics/engagement. */
export interface EngagementDay {
  date: string;
  dau: number;
  wau: number;
  mau: number;
  /** DAU / MAU as a fraction 0..1 (0 when MAU is 0). */
  stickiness: number;
}

export interface Engagement {
  daily: EngagementDay[];
  /** The mean of the days' stickiness, a fraction 0..1. */
  average_stickiness: number;
  period: Period;
}

export type TopUsersSort = "cost" | "stories" | "api_calls";

export interface TopUser {
  user_id: string;
  email: string | null;
  stories: number;
  api_calls: number;
  audio_minutes: number;
  cost_dollars: number;
}

export interface AuditEntry {
  id: string | number;
  time: string;
  admin_id: string | number;
  admin_email: string;
  door: "rest" | "mcp" | "agent" | string;
  action: string;
  outcome: "allowed" | "denied" | string;
  reason?: string;
  details?: Record<string, unknown> | null;
}

export interface AuditPage {
  entries: AuditEntry[];
  next_before: string | number | null;
}

// Prices (GET/POST/DELETE /admin/prices, POST /admin/prices/reprice).

export type PriceSource = "built-in" | "file" | "database";

/** Rates are US dollars as decimal strings ("3.00"), per the unit of each rate. */
export type Rates = Record<string, string>;

export interface PriceEntry {
  service: Service;
  model: string;
  aliases?: string[] | null;
  effective_from: string;
  rates: Rates;
  long_context_threshold?: number;
  long_context_rates?: Rates | null;
  note?: string;
  source: PriceSource;
}

export interface UnpricedModel {
  service: Service;
  model: string;
  calls: number;
}

export interface PriceCatalog {
  entries: PriceEntry[];
  unpriced: UnpricedModel[];
}

/** One entry as POST /admin/prices takes it (the --prices file format). */
export interface NewPriceEntry {
  service: Service;
  model: string;
  effective_from: string;
  rates: Rates;
  note?: string;
}

export interface PricesAdded {
  added: number;
  replaced: number;
  entries: PriceEntry[];
}

export interface RepriceRequest {
  since?: string;
  until?: string;
  model?: string;
  dry_run: boolean;
}

export interface RepriceModel {
  service: Service;
  model: string;
  calls: number;
  calls_repriced: number;
  old_cost_cents: number;
  new_cost_cents: number;
  unpriced_before: number;
  unpriced_after: number;
}

export interface RepriceResult {
  dry_run: boolean;
  calls_examined: number;
  calls_repriced: number;
  unpriced_before: number;
  unpriced_after: number;
  old_cost_cents: number;
  new_cost_cents: number;
  by_model: RepriceModel[] | null;
}

// Admin credential lifecycle (owners: /admin/admins, /admin/tokens, /admin/ingest-keys).

export interface AdminAccount {
  id: number;
  email: string;
  role: Role;
  disabled: boolean;
  created_at: string;
  last_login_at: string | null;
}

export interface AdminToken {
  id: number;
  admin_id: number;
  admin_email: string;
  name: string;
  created_at: string;
  expires_at: string | null;
  last_used_at: string | null;
  revoked_at: string | null;
}

export interface IngestKey {
  id: number;
  name: string;
  created_at: string;
  expires_at: string | null;
  last_used_at: string | null;
  revoked_at: string | null;
}

// Budgets, alerts, anomalies (issue 12: /admin/budgets*, /admin/alerts,
// /admin/anomalies). Money is an exact decimal string of dollars ("500.00").

export type BudgetScope = "total" | "service" | "model" | "user" | "each_user";
export type BudgetPeriod = "day" | "month";
export type WebhookFormat = "standard" | "slack";

export interface Webhook {
  id: number;
  url: string;
  format: WebhookFormat;
  /** whsec_…: only in the answer that created the webhook (POST, or a PATCH that replaced the list). */
  secret?: string;
}

export interface Budget {
  id: number;
  name: string;
  scope: BudgetScope;
  scope_value: string;
  period: BudgetPeriod;
  amount_dollars: string;
  thresholds: number[];
  webhooks: Webhook[];
  notify_anomalies: boolean;
  created_at: string;
  updated_at: string;
}

/** The body of POST /admin/budgets; PATCH takes any of name, amount_dollars, thresholds, webhooks, notify_anomalies. */
export interface BudgetRequest {
  name?: string;
  scope?: BudgetScope;
  scope_value?: string;
  period?: BudgetPeriod;
  amount_dollars?: string;
  thresholds?: number[];
  webhooks?: { url: string; format: WebhookFormat }[];
  notify_anomalies?: boolean;
}

export interface BudgetProgress {
  user_id?: string;
  spend_dollars: string;
  percent: number;
  remaining_dollars: string;
  thresholds_fired: number[];
  forecast_dollars: string;
  /** The day spend reaches (or reached) 100%; null when it will not within the period. */
  projected_date: string | null;
}

export interface BudgetStatus extends BudgetProgress {
  budget: Budget;
  period_start: string;
  period_end: string;
  today: string;
  timezone: string;
  /** each_user: the users at or over the lowest threshold, highest spend first. */
  users?: BudgetProgress[];
}

export interface DeliveryAttempt {
  at: string;
  status_code: number;
  error: string;
  duration_ms: number;
}

export type DeliveryState = "pending" | "delivered" | "failed";

export interface Delivery {
  id: number;
  message_id: string;
  url: string;
  format: WebhookFormat;
  state: DeliveryState;
  attempts: number;
  next_attempt_at: string | null;
  delivered_at: string | null;
  last_error: string;
  attempt_log: DeliveryAttempt[] | null;
}

export interface BudgetAlert {
  id: number;
  key: string;
  type: "budget.threshold_crossed" | "cost.anomaly" | string;
  budget_id: number;
  budget_name: string;
  user_id: string;
  service: string;
  period_start: string;
  period_end: string;
  threshold_percent: number;
  body: Record<string, unknown>;
  created_at: string;
  deliveries: Delivery[] | null;
}

export interface AnomalyDay {
  service: Service;
  date: string;
  cost_dollars: string;
  baseline_dollars: string;
  threshold_dollars: string;
}

export interface AnomalyList {
  period: Period;
  anomalies: AnomalyDay[];
}

// Unit economics (issue 13: /admin/analytics/users/economics, /stories,
// /cohorts). *_cents are cents that may carry sub-cent digits (micro-dollar
// exact).

export type EconomicsSort = "margin" | "cost" | "revenue" | "stories";
export type SortOrder = "asc" | "desc";

/** One user's P&L over the range. */
export interface UserEconomics {
  user_id: string;
  email: string | null;
  revenue_cents: number;
  cost_cents: number;
  margin_cents: number;
  /** margin / revenue × 100; null when the user had no revenue. */
  margin_pct: number | null;
  stories: number;
  /** null when the user had no stories. */
  cost_per_story_cents: number | null;
}

export interface EconomicsSummary {
  users: number;
  paying_users: number;
  users_losing_money: number;
  /** The sum of the negative margins (≤ 0). */
  loss_cents: number;
  revenue_cents: number;
  cost_cents: number;
  margin_cents: number;
}

export interface Economics {
  users: UserEconomics[];
  /** Covers every user of the range, not just this page. */
  summary: EconomicsSummary;
  /** Opaque; null on the last page. */
  next_cursor: string | null;
  sort_by: EconomicsSort;
  order: SortOrder;
  limit: number;
  period: Period;
}

export type StoryStatus = "completed" | "failed" | "in_progress";

export interface ServiceSplit {
  anthropic: number;
  elevenlabs: number;
  s3: number;
}

export interface StoryCost {
  story_id: string;
  user_id: string;
  /** The story's day (its story_created's, else its earliest event's). */
  date?: string;
  status: StoryStatus;
  chapters: number;
  audio_seconds: number;
  cost_cents: number;
  by_service: ServiceSplit;
}

export interface CostDistribution {
  mean: number | null;
  p50: number | null;
  p90: number | null;
  p99: number | null;
  max: number | null;
}

export interface HistogramBucket {
  from_cents: number;
  to_cents: number;
  stories: number;
}

export interface StoryCosts {
  stories: number;
  completed: number;
  failed: number;
  in_progress: number;
  cost_cents: number;
  failed_cost_cents: number;
  /** All five null when no story completed. */
  cost_per_completed_story_cents: CostDistribution;
  cost_per_audio_minute_cents: number | null;
  /**
   * Completed stories per cost bucket, From ≤ cost < To, contiguous, at most
   * 20; [] when none. The real server's edges grow with the cost (log scale,
   * from the cheapest story's bucket to the dearest's), not the 20 equal
   * buckets from 0 first specified: the chart draws them as categories.
   */
  histogram: HistogramBucket[];
  /** The most expensive stories, most expensive first. */
  top: StoryCost[];
  period: Period;
}

export type CohortGranularity = "week" | "month";

export interface Cohort {
  /** The cohort period's first day (a Monday for weeks). */
  cohort: string;
  size: number;
  /** retained[k]: cohort users active in the k-th period after the cohort's own (k = 0 is its own). */
  retained: number[];
  /** Cumulative through period k. */
  revenue_cents: number[];
  /** Cumulative through period k. */
  cost_cents: number[];
}

export interface Cohorts {
  granularity: CohortGranularity;
  cohorts: Cohort[];
  unattributed_users: number;
  period: Period;
}

export type ExportTable = "daily" | "users" | "stories" | "cohorts";
