// Package testdb gives tests a fresh, migrated database: a SQLite file of the test, or,
// when PASAR_TEST_MYSQL_URL names one (svc-fulfillment/tests/test_go.py makes a fresh
// MariaDB database for the run), that MySQL database emptied for the test.
package testdb

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/pasar-shop/pasar/svc-fulfillment/internal/database"
)

// MySQLURLVariable names the MySQL database the store tests also run on.
const MySQLURLVariable = "PASAR_TEST_MYSQL_URL"

// tables are emptied between tests that share the MySQL database.
var tables = []string{"fulfillments", "fulfillment_events", "sandbox_biller_jobs"}

// Kinds are the database kinds to run a test on: SQLite always, MySQL when configured.
func Kinds() []string {
	if os.Getenv(MySQLURLVariable) != "" {
		return []string{"sqlite", "mysql"}
	}
	return []string{"sqlite"}
}

// Open is a fresh, migrated database of kind, closed at the end of the test.
func Open(t *testing.T, kind string) *database.DB {
	t.Helper()
	url := "sqlite:///" + filepath.Join(t.TempDir(), "fulfillment.db")
	if kind == "mysql" {
		url = os.Getenv(MySQLURLVariable)
	}
	db, err := database.Open(url)
	if err != nil {
		t.Fatalf("open %s: %v", kind, err)
	}
	t.Cleanup(func() { db.Close() })
	ctx := context.Background()
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatalf("migrate %s: %v", kind, err)
	}
	if kind == "mysql" {
		for _, table := range tables {
			if _, err := db.ExecContext(ctx, "DELETE FROM "+table); err != nil {
				t.Fatalf("empty %s: %v", table, err)
			}
		}
	}
	return db
}
