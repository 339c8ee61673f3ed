package database_test

import (
	"context"
	"os"
	"testing"

	"github.com/pressly/goose/v3"

	"github.com/pasar-shop/pasar/svc-fulfillment/internal/database"
	"github.com/pasar-shop/pasar/svc-fulfillment/internal/testdb"
)

// migrationsOf is goose over db's own migration files, for going down and up again.
func migrationsOf(t *testing.T, db *database.DB) *goose.Provider {
	t.Helper()
	dialect := goose.DialectSQLite3
	if db.Dialect == database.MySQL {
		dialect = goose.DialectMySQL
	}
	provider, err := goose.NewProvider(dialect, db.DB, os.DirFS("migrations/"+string(db.Dialect)))
	if err != nil {
		t.Fatal(err)
	}
	return provider
}

// Migration 2 (the trace context) on both dialects: rows written before it read as
// untraced, and its rollback gives back the tables of migration 1 with their rows.
func TestTheTraceContextMigrationKeepsRowsAndRollsBack(t *testing.T) {
	for _, kind := range testdb.Kinds() {
		t.Run(kind, func(t *testing.T) {
			ctx := context.Background()
			db := testdb.Open(t, kind)
			migrations := migrationsOf(t, db)
			t.Cleanup(func() { _, _ = migrations.Up(ctx) }) // MySQL's database is the next test's too
			if _, err := migrations.DownTo(ctx, 1); err != nil {
				t.Fatalf("roll back to 1: %v", err)
			}
			if _, err := db.ExecContext(ctx, "SELECT traceparent FROM fulfillments"); err == nil {
				t.Fatal("the rollback left the trace columns")
			}
			if _, err := db.ExecContext(ctx, "INSERT INTO fulfillments (id, order_id, package_id, product_id, delivery_kind,"+
				" quantity, currency_code, amount, destination, state, deliveries, failure_message, biller, create_time, update_time)"+
				" VALUES ('ful_old', 'ord-old', 'pkg', 'prd', 1, 1, 'IDR', 20000, '{}', 1, '[]', '', 'sandbox', 1, 1)"); err != nil {
				t.Fatal(err)
			}
			if _, err := db.ExecContext(ctx, "INSERT INTO fulfillment_events (fulfillment_id, type, snapshot, create_time)"+
				" VALUES ('ful_old', 1, '', 1)"); err != nil {
				t.Fatal(err)
			}
			if _, err := migrations.Up(ctx); err != nil {
				t.Fatalf("migrate again: %v", err)
			}
			for _, table := range []string{"fulfillments", "fulfillment_events"} {
				var traceparent, tracestate string
				if err := db.QueryRowContext(ctx, "SELECT traceparent, tracestate FROM "+table).Scan(&traceparent, &tracestate); err != nil {
					t.Fatalf("%s: %v", table, err)
				}
				if traceparent != "" || tracestate != "" {
					t.Fatalf("%s: a row of before keeps %q %q, want untraced", table, traceparent, tracestate)
				}
			}
		})
	}
}
