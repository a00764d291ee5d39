package sqlite

import (
	"context"
	"path/filepath"
	"testing"
)

// TestWriterCache checks the page caches: the writer's is WriterCacheKiB,
// the readers' SQLite's default (2,000 KiB), so that eight readers do not
// multiply it.
func TestWriterCache(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "c.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var w, r int64
	if err := s.write.QueryRowContext(ctx, `PRAGMA cache_size`).Scan(&w); err != nil {
		t.Fatal(err)
	}
	if err := s.read.QueryRowContext(ctx, `PRAGMA cache_size`).Scan(&r); err != nil {
		t.Fatal(err)
	}
	if w != -WriterCacheKiB || r != -2000 {
		t.Fatalf("cache_size: writer %d, reader %d; want %d and -2000", w, r, -WriterCacheKiB)
	}
}
