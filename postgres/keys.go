package postgres

import (
	"context"
	"errors"

	analytics "github.com/codestory/analytics"
	"github.com/jackc/pgx/v5"
)

// CreateIngestKey stores a new ingest key's hash.
func (s *Store) CreateIngestKey(ctx context.Context, name string, hash []byte) (analytics.IngestKey, error) {
	now := s.now().UTC().Truncate(1000) // microseconds, what timestamptz keeps
	k := analytics.IngestKey{Name: name, CreatedAt: now}
	err := s.pool.QueryRow(ctx, `INSERT INTO ingest_keys (name, hash, created_at) VALUES ($1, $2, $3) RETURNING id`,
		name, hash, now).Scan(&k.ID)
	return k, err
}

// IngestKeyByHash finds an unrevoked ingest key.
func (s *Store) IngestKeyByHash(ctx context.Context, hash []byte) (analytics.IngestKey, error) {
	var k analytics.IngestKey
	err := s.pool.QueryRow(ctx, `SELECT id, name, created_at FROM ingest_keys WHERE hash = $1 AND revoked_at IS NULL`, hash).
		Scan(&k.ID, &k.Name, &k.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return k, analytics.Errorf(analytics.KindUnauthenticated, "invalid or revoked ingest key")
	}
	k.CreatedAt = k.CreatedAt.UTC()
	return k, err
}
