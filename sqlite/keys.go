package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	analytics "github.com/codestory/analytics"
)

// CreateIngestKey stores a new ingest key's hash.
func (s *Store) CreateIngestKey(ctx context.Context, name string, hash []byte) (analytics.IngestKey, error) {
	return s.CreateIngestKeyExpiring(ctx, name, hash, time.Time{})
}

// IngestKeyByHash finds a live (unrevoked, unexpired) ingest key and
// records its use.
func (s *Store) IngestKeyByHash(ctx context.Context, hash []byte) (analytics.IngestKey, error) {
	now := s.now()
	k, err := scanKey(s.read.QueryRowContext(ctx, `SELECT `+keyCols+` FROM ingest_keys
		WHERE hash = ? AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?)`, hash, micros(now)))
	if errors.Is(err, sql.ErrNoRows) {
		return k, s.whyRefused(ctx, "ingest key", hash)
	}
	if err != nil {
		return k, err
	}
	return k, s.touch(ctx, "ingest_keys", k.ID, k.LastUsedAt, now)
}
