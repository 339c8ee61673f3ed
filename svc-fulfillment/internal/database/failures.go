package database

import (
	"context"
	"database/sql/driver"
	"errors"
	"net"
	"strings"

	"github.com/go-sql-driver/mysql"
)

// Failure tells what a database error means to a caller.
type Failure int

// The kinds of database failure a call can end with.
const (
	// Other is a bug or a constraint: INTERNAL.
	Other Failure = iota
	// Unavailable is an outage (UNAVAILABLE DATABASE_UNAVAILABLE): retrying later may work.
	Unavailable
	// Contention is a deadlock or lock timeout (ABORTED CONTENTION): retrying at once works.
	Contention
)

// MySQL's error numbers for an outage (the server went away, refuses, is shutting down,
// has too many connections) and for contention (a deadlock, a lock wait timeout).
var mysqlFailures = map[uint16]Failure{
	1040: Unavailable, 1053: Unavailable, 1077: Unavailable, 1152: Unavailable,
	2002: Unavailable, 2003: Unavailable, 2006: Unavailable, 2013: Unavailable,
	1205: Contention, 1213: Contention,
}

// Classify tells an outage from contention from anything else.
func Classify(err error) Failure {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return Other
	}
	var mysqlError *mysql.MySQLError
	if errors.As(err, &mysqlError) {
		return mysqlFailures[mysqlError.Number]
	}
	var netError net.Error
	if errors.Is(err, driver.ErrBadConn) || errors.Is(err, mysql.ErrInvalidConn) || errors.As(err, &netError) {
		return Unavailable
	}
	var sqliteError interface{ Code() int }
	if errors.As(err, &sqliteError) {
		switch sqliteError.Code() & 0xff { // the primary result code
		case 5, 6: // SQLITE_BUSY, SQLITE_LOCKED
			return Contention
		case 8, 10, 13, 14, 26: // READONLY, IOERR, FULL, CANTOPEN, NOTADB
			return Unavailable
		}
	}
	message := strings.ToLower(err.Error())
	if strings.Contains(message, "connection refused") || strings.Contains(message, "bad connection") {
		return Unavailable
	}
	return Other
}

// IsDuplicateKey is true for a unique constraint's refusal.
func IsDuplicateKey(err error) bool {
	var mysqlError *mysql.MySQLError
	if errors.As(err, &mysqlError) {
		return mysqlError.Number == 1062
	}
	var sqliteError interface{ Code() int }
	if errors.As(err, &sqliteError) {
		// SQLITE_CONSTRAINT_UNIQUE (2067) and SQLITE_CONSTRAINT_PRIMARYKEY (1555)
		return sqliteError.Code() == 2067 || sqliteError.Code() == 1555
	}
	return false
}
