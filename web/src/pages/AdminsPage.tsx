import { useEffect } from "react";
import { serverZone } from "../lib/clock";
import { useAdmins, useIngestKeys, useTokens } from "../lib/queries";
import type { Session } from "../lib/types";
import { AdminsTable } from "../components/admins/AdminsTable";
import { CredentialsTable } from "../components/admins/CredentialsTable";
import { ErrorState } from "../components/ErrorState";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "../components/ui/card";
import { TableSkeleton } from "../components/ui/table-skeleton";

/** Owners: admins and every credential that can reach the API, and a way to take each back. */
export function AdminsPage({ session }: { session: Session }) {
  const admins = useAdmins();
  const tokens = useTokens();
  const keys = useIngestKeys();
  const zone = serverZone(session);

  useEffect(() => {
    document.title = "Admins · CodeStory Analytics";
  }, []);

  return (
    <main className="page">
      <div className="page-header">
        <div className="page-heading">
          <h1>Admins</h1>
          <p className="subtitle">
            Who can sign in, with which role, and every API token and ingest key. Every change is audited.
            {zone && <> Times are in {zone}.</>}
          </p>
        </div>
      </div>
      <div className="content">
        <Card>
          <CardHeader>
            <CardTitle>Admins</CardTitle>
            <CardDescription>
              Disabling or deleting an admin ends their sessions and tokens at once. The last enabled owner cannot be demoted,
              disabled or deleted. New admins are created with <code>codestory-analytics admin create</code>.
            </CardDescription>
          </CardHeader>
          <CardContent className="flush">
            {admins.error ? (
              <div className="pad">
                <ErrorState error={admins.error} onRetry={() => admins.refetch()} compact />
              </div>
            ) : !admins.data ? (
              <TableSkeleton cols={5} />
            ) : (
              <AdminsTable admins={admins.data.admins ?? []} selfEmail={session.email} zone={zone} />
            )}
          </CardContent>
        </Card>

        <Card>
          <CardHeader>
            <CardTitle>API tokens</CardTitle>
            <CardDescription>Bearer tokens for scripts and AI agents, each acting as its admin.</CardDescription>
          </CardHeader>
          <CardContent className="flush">
            {tokens.error ? (
              <div className="pad">
                <ErrorState error={tokens.error} onRetry={() => tokens.refetch()} compact />
              </div>
            ) : !tokens.data ? (
              <TableSkeleton cols={6} />
            ) : (
              <CredentialsTable kind="token" items={tokens.data.tokens ?? []} zone={zone} />
            )}
          </CardContent>
        </Card>

        <Card>
          <CardHeader>
            <CardTitle>Ingest keys</CardTitle>
            <CardDescription>
              Keys the platform sends events with (<code>POST /v1/events</code>). A revoked key is refused at once.
            </CardDescription>
          </CardHeader>
          <CardContent className="flush">
            {keys.error ? (
              <div className="pad">
                <ErrorState error={keys.error} onRetry={() => keys.refetch()} compact />
              </div>
            ) : !keys.data ? (
              <TableSkeleton cols={5} />
            ) : (
              <CredentialsTable kind="ingest-key" items={keys.data.ingest_keys ?? []} zone={zone} />
            )}
          </CardContent>
        </Card>
      </div>
    </main>
  );
}
