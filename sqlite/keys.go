package sqlite

import (
	"context"
	"database/sql"
	"errors"

	analytics "github.com/codestory/analytics"
)

// CreateIngestKey stores a new ingest key's hash.
func (s *Store) CreateIngestKey(ctx context.Context, name string, hash []byte) (analytics.IngestKey, error) {
	now := s.now().UTC().Truncate(1000)
	res, err := s.write.ExecContext(ctx, `INSERT INTO ingest_keys (name, hash, created_at) VALUES (?, ?, ?)`, name, hash, micros(now))
	if err != nil {
		return analytics.IngestKey{}, err
	}
	id, err := res.LastInsertId()
	return analytics.IngestKey{ID: id, Name: name, CreatedAt: now}, err
}

// IngestKeyByHash finds an unrevoked ingest key.
func (s *Store) IngestKeyByHash(ctx context.Context, hash []byte) (analytics.IngestKey, error) {
	var k analytics.IngestKey
	var created int64
	err := s.read.QueryRowContext(ctx, `SELECT id, name, created_at FROM ingest_keys WHERE hash = ? AND revoked_at IS NULL`, hash).
		Scan(&k.ID, &k.Name, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return k, analytics.Errorf(analytics.KindUnauthenticated, "invalid or revoked ingest key")
	}
	k.CreatedAt = fromMicros(created)
	return k, err
}
