package database

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-sql-driver/mysql"
)

func TestOpenReadsDatabaseURL(t *testing.T) {
	cases := []struct {
		url, dialect, name, refusal string
	}{
		{url: "sqlite:///" + filepath.Join(t.TempDir(), "a", "f.db"), dialect: "sqlite"},
		{url: "mysql://pasar:s3cret@db.example:3307/pasar_fulfillment", dialect: "mysql", name: "mysql://pasar:***@db.example:3307/pasar_fulfillment"},
		{url: "mariadb://pasar@db/pasar_fulfillment", dialect: "mysql", name: "mariadb://pasar@db/pasar_fulfillment"},
		{url: "postgres://x@y/z", refusal: "DATABASE_URL must start with sqlite:/// or mysql://, not postgres://"},
		{url: "var/fulfillment.db", refusal: "DATABASE_URL must start with sqlite:/// or mysql://, not 'var/fulfillment.db'://"},
		{url: "sqlite:///", refusal: "sqlite:/// needs a file path"},
		{url: "sqlite:///:memory:", refusal: "sqlite:/// needs a file path"},
		{url: "mysql://pasar@db/", refusal: "mysql:// needs a host and a database name"},
	}
	for _, c := range cases {
		t.Run(c.url, func(t *testing.T) {
			db, err := Open(c.url)
			if c.refusal != "" {
				var urlError *URLError
				if !errors.As(err, &urlError) || !strings.Contains(err.Error(), c.refusal) {
					t.Fatalf("got %v, want a URLError saying %q", err, c.refusal)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if string(db.Dialect) != c.dialect {
				t.Errorf("dialect %s", db.Dialect)
			}
			if c.name != "" && db.Name != c.name {
				t.Errorf("name %q, want %q (the password masked)", db.Name, c.name)
			}
		})
	}
}

type sqliteError struct{ code int }

func (e sqliteError) Error() string { return fmt.Sprintf("sqlite error %d", e.code) }
func (e sqliteError) Code() int     { return e.code }

func TestClassify(t *testing.T) {
	cases := []struct {
		name string
		err  error
		want Failure
	}{
		{"deadlock", &mysql.MySQLError{Number: 1213}, Contention},
		{"lock wait timeout", fmt.Errorf("update: %w", &mysql.MySQLError{Number: 1205}), Contention},
		{"server gone", &mysql.MySQLError{Number: 2006}, Unavailable},
		{"too many connections", &mysql.MySQLError{Number: 1040}, Unavailable},
		{"duplicate key", &mysql.MySQLError{Number: 1062}, Other},
		{"bad connection", mysql.ErrInvalidConn, Unavailable},
		{"refused", &net.OpError{Op: "dial", Err: errors.New("connection refused")}, Unavailable},
		{"sqlite busy", sqliteError{5}, Contention},
		{"sqlite busy snapshot", sqliteError{5 | 2<<8}, Contention},
		{"sqlite cannot open", sqliteError{14}, Unavailable},
		{"sqlite constraint", sqliteError{2067}, Other},
		{"a bug", errors.New("nil map"), Other},
	}
	for _, c := range cases {
		if got := Classify(c.err); got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}
	if !IsDuplicateKey(&mysql.MySQLError{Number: 1062}) || !IsDuplicateKey(sqliteError{2067}) || IsDuplicateKey(sqliteError{5}) {
		t.Error("IsDuplicateKey")
	}
}

// A handler's panic is recovered and the service serves on: the transaction it was in
// must not stay open, holding the write lock every later write waits for.
func TestATransactionIsRolledBackWhenItsWorkPanics(t *testing.T) {
	db, err := Open("sqlite:///" + filepath.Join(t.TempDir(), "panic.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, "CREATE TABLE notes (n INTEGER)"); err != nil {
		t.Fatal(err)
	}
	func() {
		defer func() { _ = recover() }()
		_ = db.InTx(ctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, "INSERT INTO notes (n) VALUES (1)"); err != nil {
				return err
			}
			panic("a bug in the work")
		})
	}()
	err = db.InTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "INSERT INTO notes (n) VALUES (2)")
		return err
	})
	if err != nil {
		t.Fatalf("the next write: %v", err)
	}
	var notes []int
	rows, err := db.QueryContext(ctx, "SELECT n FROM notes")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var n int
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		notes = append(notes, n)
	}
	if len(notes) != 1 || notes[0] != 2 {
		t.Fatalf("rows %v, want only the second write's", notes)
	}
}
