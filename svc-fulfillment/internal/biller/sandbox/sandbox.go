package sandbox

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	fulfillmentv1 "github.com/pasar-shop/pasar/contracts/go/pasar/fulfillment/v1"
	productv1 "github.com/pasar-shop/pasar/contracts/go/pasar/product/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/pasar-shop/pasar/svc-fulfillment/internal/biller"
	"github.com/pasar-shop/pasar/svc-fulfillment/internal/database"
)

// Notifier hands a signed notification to the service's NotifyFulfillment handling, the
// same code a real biller's webhook reaches.
type Notifier func(ctx context.Context, billerName string, payload []byte, signature string) error

// Sandbox is the sandbox biller. Its accepted requests are rows of sandbox_biller_jobs,
// answered by Run when due.
type Sandbox struct {
	db          *database.DB
	secret      string
	delay, late time.Duration
	notify      Notifier
	log         *slog.Logger
	doorbell    chan struct{}
	now         func() time.Time
}

// New is a sandbox biller answering delay after a request (late for destinations ending
// in 0009), signing its notifications with secret and handing them to notify.
func New(db *database.DB, secret string, delay, late time.Duration, notify Notifier, log *slog.Logger) *Sandbox {
	return &Sandbox{db: db, secret: secret, delay: delay, late: late, notify: notify, log: log,
		doorbell: make(chan struct{}, 1), now: time.Now}
}

var _ biller.Biller = (*Sandbox)(nil)

// Name is "sandbox".
func (s *Sandbox) Name() string { return Name }

// Supports is true for every delivery kind: the sandbox fakes them all.
func (s *Sandbox) Supports(kind productv1.DeliveryKind) bool {
	return kind != productv1.DeliveryKind_DELIVERY_KIND_UNSPECIFIED
}

// Reference is the sandbox's reference for fulfillment id: derived from it, so that a
// repeated request gets the same one.
func Reference(id string) string {
	sum := sha256.Sum256([]byte("sandbox/" + id))
	return "SBX-" + strings.ToUpper(hex.EncodeToString(sum[:8]))
}

// Request accepts f once: a repeated request finds its job and changes nothing.
func (s *Sandbox) Request(ctx context.Context, f *fulfillmentv1.Fulfillment) (string, error) {
	reference := Reference(f.GetId())
	request, err := proto.Marshal(f)
	if err != nil {
		return "", err
	}
	now := s.now().Truncate(time.Microsecond)
	due := now.Add(PlanFor(f.GetDestination()).Delay(s.delay, s.late))
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "INSERT INTO sandbox_biller_jobs (fulfillment_id, reference, request, due_time, create_time)"+
			" VALUES (?, ?, ?, ?, ?)", f.GetId(), reference, request, due.UnixMicro(), now.UnixMicro())
		return err
	})
	if err != nil && !database.IsDuplicateKey(err) {
		return "", err
	}
	s.ring()
	return reference, nil
}

// Lookup answers from the sandbox's documented table (lookup.go).
func (s *Sandbox) Lookup(_ context.Context, product *productv1.Product, field string, destination map[string]string) (*fulfillmentv1.LookupDestinationResponse, error) {
	return Lookup(product, field, destination)
}

// ParseNotification checks a notification signed with the shared secret.
func (s *Sandbox) ParseNotification(payload []byte, signature string) (*biller.Notification, error) {
	return ParseNotification(s.secret, payload, signature)
}

func (s *Sandbox) ring() {
	select {
	case s.doorbell <- struct{}{}:
	default:
	}
}

// idleWait is the longest the worker sleeps without a doorbell: it also notices jobs
// another instance of the service accepted.
const idleWait = time.Second

// Run answers due jobs until ctx ends: a job is marked answered once the service took
// its notification (or refused it for good); one that failed for a passing reason (the
// database was down) is tried again.
func (s *Sandbox) Run(ctx context.Context) {
	for {
		next, err := s.answerDue(ctx)
		if err != nil && ctx.Err() == nil {
			s.log.WarnContext(ctx, "sandbox biller cannot answer its jobs now", "error", err.Error())
		}
		wait := idleWait
		if !next.IsZero() {
			wait = min(max(time.Until(next), time.Millisecond), idleWait)
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-s.doorbell:
			timer.Stop()
		case <-timer.C:
		}
	}
}

type job struct {
	id, reference string
	request       []byte
}

// answerDue answers every due job and returns when the next one is due (zero: none waits).
func (s *Sandbox) answerDue(ctx context.Context) (time.Time, error) {
	now := s.now().UnixMicro()
	rows, err := s.db.QueryContext(ctx, "SELECT fulfillment_id, reference, request FROM sandbox_biller_jobs"+
		" WHERE answered_time IS NULL AND due_time <= ? ORDER BY due_time LIMIT 100", now)
	if err != nil {
		return time.Time{}, err
	}
	var due []job
	for rows.Next() {
		var j job
		if err := rows.Scan(&j.id, &j.reference, &j.request); err != nil {
			rows.Close()
			return time.Time{}, err
		}
		due = append(due, j)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return time.Time{}, err
	}
	// A job whose answer fails now is tried again later; the jobs after it are still
	// answered, unless the database is down for them all.
	var failed []error
	for _, j := range due {
		if err := s.answer(ctx, j); err != nil {
			if ctx.Err() != nil || database.Classify(err) == database.Unavailable {
				return time.Time{}, err
			}
			failed = append(failed, fmt.Errorf("fulfillment %s: %w", j.id, err))
		}
	}
	if len(failed) > 0 {
		return time.Time{}, errors.Join(failed...)
	}
	var next sql.NullInt64
	err = s.db.QueryRowContext(ctx, "SELECT MIN(due_time) FROM sandbox_biller_jobs WHERE answered_time IS NULL").Scan(&next)
	if err != nil || !next.Valid {
		return time.Time{}, err
	}
	return time.UnixMicro(next.Int64), nil
}

func (s *Sandbox) answer(ctx context.Context, j job) error {
	f := &fulfillmentv1.Fulfillment{}
	if err := proto.Unmarshal(j.request, f); err != nil {
		return err
	}
	payload := EncodeNotification(f.GetId(), Outcome(f, j.reference))
	err := s.notify(ctx, Name, payload, biller.Sign(s.secret, payload))
	if err != nil {
		switch status.Code(err) {
		case codes.NotFound, codes.FailedPrecondition, codes.InvalidArgument, codes.Unauthenticated:
			// Refused for good (the fulfillment ended otherwise): a real biller would stop too.
			s.log.WarnContext(ctx, "the service refused the sandbox's notification",
				"fulfillment_id", f.GetId(), "code", status.Code(err).String())
		default:
			return err
		}
	}
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "UPDATE sandbox_biller_jobs SET answered_time = ? WHERE fulfillment_id = ?",
			s.now().UnixMicro(), j.id)
		return err
	})
}

// AnswerDue answers every job due now, once (the worker's step, for tests and tools).
func (s *Sandbox) AnswerDue(ctx context.Context) error {
	_, err := s.answerDue(ctx)
	return err
}
