// Package database opens the service's database from DATABASE_URL (SQLite by default,
// MySQL or MariaDB in production), applies its embedded migrations with goose, and tells
// an outage from contention in the errors it returns, as pasar_kit.database does for the
// Python services.
package database

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/XSAM/otelsql"
	"github.com/go-sql-driver/mysql"
	"github.com/pressly/goose/v3"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
	_ "modernc.org/sqlite" // the pure-Go SQLite driver: the image is static
)

// Dialect is the kind of database behind a DB.
type Dialect string

// The two dialects DATABASE_URL names.
const (
	SQLite Dialect = "sqlite"
	MySQL  Dialect = "mysql"
)

// sqliteWriteWait is how long a SQLite writer waits for another process's write lock.
const sqliteWriteWait = 10 * time.Second

// URLError is a DATABASE_URL that cannot be understood; the message says why.
type URLError struct{ Message string }

func (e *URLError) Error() string { return e.Message }

// DB is the service's database.
type DB struct {
	*sql.DB
	Dialect Dialect
	// Name is DATABASE_URL with its password masked, for messages.
	Name string
	file string
	// writes queues this process's SQLite write transactions on a mutex: SQLite lets one
	// writer in at a time and the others poll, so a waiter could miss every free moment
	// and fail after the busy timeout (pasar_kit.database.SerializedSqliteDatabase).
	writes sync.Mutex
}

// Option changes how Open opens the database.
type Option func(*options)

type options struct{ tracer trace.TracerProvider }

// WithTracing makes a span of each database call made inside a span of provider (a call's,
// a worker's): database/sql through otelsql. Calls outside any span (health probes,
// polling, metrics) make none.
func WithTracing(provider trace.TracerProvider) Option {
	return func(o *options) { o.tracer = provider }
}

// Open opens (lazily: nothing connects yet) the database rawURL names.
func Open(rawURL string, opts ...Option) (*DB, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	parts, err := url.Parse(rawURL)
	if err != nil {
		return nil, &URLError{fmt.Sprintf("DATABASE_URL is not a URL: %v", err)}
	}
	switch parts.Scheme {
	case "sqlite":
		return openSQLite(parts.Path, rawURL, o)
	case "mysql", "mariadb":
		return openMySQL(parts, o)
	}
	scheme := parts.Scheme
	if scheme == "" {
		scheme = "'" + rawURL + "'"
	}
	return nil, &URLError{fmt.Sprintf("DATABASE_URL must start with sqlite:/// or mysql://, not %s://", scheme)}
}

func openSQLite(path, rawURL string, o options) (*DB, error) {
	// sqlite:///var/x.db has path "/var/x.db": the first slash separates, the rest is relative.
	relative := strings.TrimPrefix(path, "/")
	if relative == "" || relative == ":memory:" {
		return nil, &URLError{"sqlite:/// needs a file path; an in-memory database is not shared between connections"}
	}
	if err := os.MkdirAll(filepath.Dir(relative), 0o755); err != nil {
		return nil, fmt.Errorf("cannot create the folder of %s: %w", relative, err)
	}
	dsn := "file:" + relative + "?_txlock=immediate" +
		"&_pragma=busy_timeout(" + strconv.Itoa(int(sqliteWriteWait.Milliseconds())) + ")" +
		"&_pragma=journal_mode(wal)&_pragma=foreign_keys(1)&_pragma=synchronous(normal)"
	var pool *sql.DB
	var err error
	if o.tracer != nil {
		pool, err = otelsql.Open("sqlite", dsn, o.instrumentation("sqlite")...)
	} else {
		pool, err = sql.Open("sqlite", dsn)
	}
	if err != nil {
		return nil, err
	}
	pool.SetMaxOpenConns(8)
	return &DB{DB: pool, Dialect: SQLite, Name: rawURL, file: relative}, nil
}

func openMySQL(parts *url.URL, o options) (*DB, error) {
	name := strings.TrimPrefix(parts.Path, "/")
	if name == "" || parts.Hostname() == "" {
		return nil, &URLError{"mysql:// needs a host and a database name: mysql://user:password@host:3306/name"}
	}
	port := parts.Port()
	if port == "" {
		port = "3306"
	}
	password, _ := parts.User.Password()
	config := mysql.NewConfig()
	config.User = parts.User.Username()
	config.Passwd = password
	config.Net = "tcp"
	config.Addr = parts.Hostname() + ":" + port
	config.DBName = name
	config.Timeout = 5 * time.Second
	config.ReadTimeout = 30 * time.Second
	config.WriteTimeout = 30 * time.Second
	// Strict mode: a value that does not fit is an error, never silently truncated.
	config.Params = map[string]string{"sql_mode": "'STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION'"}
	config.Collation = "utf8mb4_unicode_ci"
	connector, err := mysql.NewConnector(config)
	if err != nil {
		return nil, &URLError{fmt.Sprintf("DATABASE_URL: %v", err)}
	}
	var pool *sql.DB
	if o.tracer != nil {
		pool = otelsql.OpenDB(connector, o.instrumentation("mysql")...)
	} else {
		pool = sql.OpenDB(connector)
	}
	pool.SetMaxOpenConns(20)
	pool.SetConnMaxIdleTime(5 * time.Minute)
	return &DB{DB: pool, Dialect: MySQL, Name: maskPassword(parts)}, nil
}

// instrumentation is otelsql's options: a span per statement (and transaction) inside a
// span, none for calls outside one, no spans for row iteration, session resets or prepares;
// a statement's span is named by its first word (SELECT), as the Python services' are.
func (o options) instrumentation(system string) []otelsql.Option {
	return []otelsql.Option{
		otelsql.WithTracerProvider(o.tracer),
		otelsql.WithSpanNameFormatter(spanName),
		// db.system as well: the Python services' instrumentations name the database by
		// the older attribute alone, and one search should find the SQL of every service.
		otelsql.WithAttributes(attribute.String("db.system.name", system), attribute.String("db.system", system)),
		otelsql.WithSpanOptions(otelsql.SpanOptions{
			OmitConnResetSession: true, OmitConnPrepare: true, OmitRows: true, OmitConnectorConnect: true,
			SpanFilter: func(ctx context.Context, _ otelsql.Method, _ string, _ []driver.NamedValue) bool {
				return trace.SpanContextFromContext(ctx).IsValid()
			},
		}),
	}
}

func spanName(_ context.Context, method otelsql.Method, query string) string {
	if word, _, _ := strings.Cut(strings.TrimSpace(query), " "); word != "" {
		return strings.ToUpper(word)
	}
	return string(method)
}

func maskPassword(parts *url.URL) string {
	if _, ok := parts.User.Password(); !ok {
		return parts.String()
	}
	masked := *parts
	masked.User = url.UserPassword(parts.User.Username(), "***")
	return strings.Replace(masked.String(), "%2A%2A%2A", "***", 1)
}

// Ping is nil when the database answers a query now.
func (db *DB) Ping(ctx context.Context) error {
	var one int
	return db.QueryRowContext(ctx, "SELECT 1").Scan(&one)
}

// InTx runs work in one transaction, committed when work returns nil and rolled back
// otherwise. On SQLite the process's writers queue for their turn first.
func (db *DB) InTx(ctx context.Context, work func(*sql.Tx) error) error {
	if db.Dialect == SQLite {
		db.writes.Lock()
		defer db.writes.Unlock()
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	// Rolled back however work ends, a panic included (the pipeline recovers from one and
	// serves on): an open transaction would hold SQLite's write lock, or MySQL's row locks,
	// for good. After a commit the rollback does nothing.
	defer func() { _ = tx.Rollback() }()
	if err := work(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// ForUpdate is the row-locking suffix of a SELECT: MySQL's FOR UPDATE; SQLite's write
// transactions are serialised already and it has none.
func (db *DB) ForUpdate() string {
	if db.Dialect == MySQL {
		return " FOR UPDATE"
	}
	return ""
}

//go:embed migrations
var migrations embed.FS

// Migrate applies the pending migrations of the database's dialect and returns their
// versions. Concurrent migrations of one database (several instances starting) queue on
// a lock: MySQL's named lock, or a file lock beside the SQLite file.
func (db *DB) Migrate(ctx context.Context) ([]int64, error) {
	folder, err := fs.Sub(migrations, "migrations/"+string(db.Dialect))
	if err != nil {
		return nil, err
	}
	dialect := goose.DialectSQLite3
	if db.Dialect == MySQL {
		dialect = goose.DialectMySQL
	}
	provider, err := goose.NewProvider(dialect, db.DB, folder)
	if err != nil {
		return nil, err
	}
	unlock, err := db.migrationLock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	results, err := provider.Up(ctx)
	if err != nil {
		return nil, err
	}
	versions := make([]int64, 0, len(results))
	for _, r := range results {
		versions = append(versions, r.Source.Version)
	}
	return versions, nil
}

const migrationLockSeconds = 60

func (db *DB) migrationLock(ctx context.Context) (func(), error) {
	if db.Dialect == SQLite {
		return lockFile(db.file + ".migrate.lock")
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	var got sql.NullInt64
	if err := conn.QueryRowContext(ctx, "SELECT GET_LOCK('pasar_migrations', ?)", migrationLockSeconds).Scan(&got); err != nil {
		conn.Close()
		return nil, err
	}
	if got.Int64 != 1 {
		conn.Close()
		return nil, errors.New("another process held the migration lock for too long")
	}
	return func() {
		_, _ = conn.ExecContext(context.Background(), "SELECT RELEASE_LOCK('pasar_migrations')")
		conn.Close()
	}, nil
}
