// JSON shapes of the Go API (tools.go). Field names are the wire names.
// Money: *_cents are cents, cost/revenue/cost_dollars are dollars; both are
// decimal numbers that may carry sub-cent digits.

export type Role = "viewer" | "analyst" | "owner";
export type Permission = "VIEW_ANALYTICS" | "EXPORT_DATA" | "MANAGE_ADMINS" | "VIEW_AUDIT";

export interface Session {
  email: string;
  role: Role;
  permissions: Permission[];
  csrf_token: string;
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
