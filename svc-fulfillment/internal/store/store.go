// Package store keeps fulfillments and their events in the service's database. A
// fulfillment is unique per order line (order id, package id); each change is written with
// its event in one transaction; a "request due" marker tells the request worker which
// fulfillments the biller has not yet accepted, and is cleared in the transaction that
// records the acceptance, so a crash between the two repeats the request and loses none.
package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strings"
	"time"

	commonv1 "github.com/pasar-shop/pasar/contracts/go/pasar/common/v1"
	fulfillmentv1 "github.com/pasar-shop/pasar/contracts/go/pasar/fulfillment/v1"
	productv1 "github.com/pasar-shop/pasar/contracts/go/pasar/product/v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/pasar-shop/pasar/svc-fulfillment/internal/database"
	"github.com/pasar-shop/pasar/svc-fulfillment/internal/telemetry"
)

// ErrNotFound is a fulfillment that does not exist (or, for a notification, not with
// that biller reference).
var ErrNotFound = errors.New("no such fulfillment")

// ConflictError is CreateFulfillment for a line that has a fulfillment with other content.
type ConflictError struct{ Existing *fulfillmentv1.Fulfillment }

func (e *ConflictError) Error() string {
	return "the line already has fulfillment " + e.Existing.GetId() + " with other content"
}

// NotPendingError is an outcome for a fulfillment that already ended otherwise.
type NotPendingError struct{ Fulfillment *fulfillmentv1.Fulfillment }

func (e *NotPendingError) Error() string {
	return "fulfillment " + e.Fulfillment.GetId() + " already ended " + e.Fulfillment.GetState().String()
}

// NewFulfillment is what CreateFulfillment asks to deliver.
type NewFulfillment struct {
	OrderID, PackageID, ProductID string
	Kind                          productv1.DeliveryKind
	Quantity                      int32
	Amount                        *commonv1.Money
	Destination                   map[string]string
	Biller                        string
}

// The names of the service's queues and stream, as spans (messaging.destination.name) and
// metrics (pasar_outbox_rows{outbox}, pasar_event_stream_newest_sequence{stream}) give them.
const (
	// BillerRequests are the fulfillments whose request the biller has not accepted yet.
	BillerRequests = "biller-requests"
	// BillerAnswers are the accepted fulfillments whose outcome the biller has not sent yet.
	BillerAnswers = "biller-answers"
	// BillerNotifications are the biller's answers as they arrive (NotifyFulfillment), in
	// the spans that apply them.
	BillerNotifications = "biller-notifications"
	// EventStream is the stream of fulfillment events (WatchFulfillmentEvents).
	EventStream = "fulfillment-events"
)

// MaxReferenceLength is the longest biller reference the store keeps, in bytes (its
// column's size): a biller's notification with a longer one is refused as unreadable.
const MaxReferenceLength = 128

// Outcome is a biller's answer for a fulfillment.
type Outcome struct {
	Reference  string
	Succeeded  bool
	Deliveries []*fulfillmentv1.Delivery
	Failure    *fulfillmentv1.Failure
}

// Store reads and writes fulfillments.
type Store struct {
	db  *database.DB
	now func() time.Time
	// written is called after each committed transaction that wrote an event (it rings
	// the event streams' doorbell) or made a request due (the request worker's).
	written func()
}

// New is a store over db; written is called after each commit that wrote an event.
func New(db *database.DB, written func()) *Store {
	if written == nil {
		written = func() {}
	}
	return &Store{db: db, now: time.Now, written: written}
}

// DB is the store's database.
func (s *Store) DB() *database.DB { return s.db }

const columns = "id, order_id, package_id, product_id, delivery_kind, quantity, currency_code, amount," +
	" destination, state, deliveries, failure_reason, failure_message, biller, biller_reference," +
	" create_time, update_time, complete_time, request_due, traceparent, tracestate"

// Due is a fulfillment whose biller request is due, with the trace context of the call
// that created it (the request's span is its child).
type Due struct {
	Fulfillment *fulfillmentv1.Fulfillment
	Trace       telemetry.Stored
}

// Create stores a new pending fulfillment with its CREATED event, or returns the line's
// existing one (created false) when its content is the same; a *ConflictError otherwise.
// Both keep the trace context of ctx's span (CreateFulfillment's): the later work joins it.
func (s *Store) Create(ctx context.Context, n NewFulfillment) (*fulfillmentv1.Fulfillment, bool, error) {
	if existing, err := s.byLine(ctx, s.db, n.OrderID, n.PackageID, ""); err == nil {
		return sameOrConflict(existing, n)
	} else if !errors.Is(err, ErrNotFound) {
		return nil, false, dbError("read the line's fulfillment", err)
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	f := &fulfillmentv1.Fulfillment{
		Id: newID(), OrderId: n.OrderID, PackageId: n.PackageID, ProductId: n.ProductID,
		DeliveryKind: n.Kind, Quantity: n.Quantity,
		Amount:      &commonv1.Money{CurrencyCode: n.Amount.GetCurrencyCode(), Amount: n.Amount.GetAmount()},
		Destination: maps.Clone(n.Destination), State: fulfillmentv1.FulfillmentState_FULFILLMENT_STATE_PENDING,
		Biller: n.Biller, CreateTime: timestamppb.New(now), UpdateTime: timestamppb.New(now),
	}
	destination, _ := json.Marshal(f.Destination) // map keys are sorted: one text per destination
	cause := telemetry.Current(ctx)
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "INSERT INTO fulfillments (id, order_id, package_id, product_id, delivery_kind,"+
			" quantity, currency_code, amount, destination, state, deliveries, failure_reason, failure_message, biller,"+
			" biller_reference, request_due, create_time, update_time, traceparent, tracestate)"+
			" VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '[]', 0, '', ?, '', 1, ?, ?, ?, ?)",
			f.Id, f.OrderId, f.PackageId, f.ProductId, int32(f.DeliveryKind), f.Quantity, f.Amount.CurrencyCode,
			f.Amount.Amount, string(destination), int32(f.State), f.Biller, micros(now), micros(now),
			cause.Traceparent, cause.Tracestate)
		if err != nil {
			return err
		}
		return s.addEvent(ctx, tx, fulfillmentv1.FulfillmentEventType_FULFILLMENT_EVENT_TYPE_CREATED, f, now, cause)
	})
	if database.IsDuplicateKey(err) {
		// Another call created the line's fulfillment between our read and our insert.
		existing, readErr := s.byLine(ctx, s.db, n.OrderID, n.PackageID, "")
		if readErr != nil {
			return nil, false, dbError("read the line's fulfillment", readErr)
		}
		return sameOrConflict(existing, n)
	}
	if err != nil {
		return nil, false, dbError("create a fulfillment", err)
	}
	s.written()
	return f, true, nil
}

func sameOrConflict(existing *fulfillmentv1.Fulfillment, n NewFulfillment) (*fulfillmentv1.Fulfillment, bool, error) {
	same := existing.GetProductId() == n.ProductID && existing.GetDeliveryKind() == n.Kind &&
		existing.GetQuantity() == n.Quantity && existing.GetAmount().GetCurrencyCode() == n.Amount.GetCurrencyCode() &&
		existing.GetAmount().GetAmount() == n.Amount.GetAmount() && maps.Equal(existing.GetDestination(), n.Destination)
	if !same {
		return nil, false, &ConflictError{Existing: existing}
	}
	return existing, false, nil
}

// Get is the fulfillment with id, or ErrNotFound.
func (s *Store) Get(ctx context.Context, id string) (*fulfillmentv1.Fulfillment, error) {
	if !isID(id) {
		return nil, ErrNotFound
	}
	r, err := scanOne(s.db.QueryRowContext(ctx, "SELECT "+columns+" FROM fulfillments WHERE id = ?", id))
	return r.f, dbError("read fulfillment "+id, err)
}

// CreationTrace is the trace context of the call that created fulfillment id (empty when
// it was not traced), or ErrNotFound.
func (s *Store) CreationTrace(ctx context.Context, id string) (telemetry.Stored, error) {
	if !isID(id) {
		return telemetry.Stored{}, ErrNotFound
	}
	var stored telemetry.Stored
	err := s.db.QueryRowContext(ctx, "SELECT traceparent, tracestate FROM fulfillments WHERE id = ?", id).
		Scan(&stored.Traceparent, &stored.Tracestate)
	if errors.Is(err, sql.ErrNoRows) {
		return stored, ErrNotFound
	}
	return stored, dbError("read the trace of fulfillment "+id, err)
}

type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func (s *Store) byLine(ctx context.Context, q queryer, orderID, packageID, lock string) (*fulfillmentv1.Fulfillment, error) {
	r, err := scanOne(q.QueryRowContext(ctx, "SELECT "+columns+" FROM fulfillments"+
		" WHERE order_id = ? AND package_id = ?"+lock, orderID, packageID))
	return r.f, err
}

// DueRequests are fulfillments whose biller request has not been accepted yet, oldest first.
func (s *Store) DueRequests(ctx context.Context, limit int) ([]Due, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT "+columns+" FROM fulfillments"+
		" WHERE request_due = 1 ORDER BY create_time, id LIMIT ?", limit)
	if err != nil {
		return nil, dbError("read the due requests", err)
	}
	defer rows.Close()
	var due []Due
	for rows.Next() {
		r, err := scan(rows)
		if err != nil {
			return nil, dbError("read the due requests", err)
		}
		due = append(due, Due{Fulfillment: r.f, Trace: r.trace})
	}
	return due, dbError("read the due requests", rows.Err())
}

// MarkRequested records that the biller accepted the request for id under reference:
// the request is no longer due, and the fulfillment carries the biller's reference (a
// change: update_time moves). A notification may have recorded both already.
func (s *Store) MarkRequested(ctx context.Context, id, reference string) error {
	now := micros(s.now().UTC().Truncate(time.Microsecond))
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "UPDATE fulfillments SET request_due = 0, biller_reference = ?, update_time = ?"+
			" WHERE id = ? AND request_due = 1 AND biller_reference = ''", reference, now, id)
		return dbError("record the request of "+id, err)
	})
}

// Complete ends the pending fulfillment id with outcome and writes its event. The same
// outcome again returns the fulfillment unchanged with duplicate true; another outcome for
// an ended fulfillment is a *NotPendingError. A reference other than the one the biller
// gave when it accepted the request is ErrNotFound: no fulfillment has both. The event
// keeps the fulfillment's creation context, as the contract says.
func (s *Store) Complete(ctx context.Context, id string, outcome Outcome) (*fulfillmentv1.Fulfillment, bool, error) {
	if !isID(id) {
		return nil, false, ErrNotFound
	}
	var result *fulfillmentv1.Fulfillment
	duplicate := false
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		r, err := scanOne(tx.QueryRowContext(ctx, "SELECT "+columns+" FROM fulfillments WHERE id = ?"+s.db.ForUpdate(), id))
		if err != nil {
			return err
		}
		f := r.f
		if f.BillerReference != "" && f.BillerReference != outcome.Reference {
			return ErrNotFound
		}
		if f.State != fulfillmentv1.FulfillmentState_FULFILLMENT_STATE_PENDING {
			if sameOutcome(f, outcome) {
				result, duplicate = f, true
				return nil
			}
			return &NotPendingError{Fulfillment: f}
		}
		now := s.now().UTC().Truncate(time.Microsecond)
		f.BillerReference = outcome.Reference
		f.UpdateTime, f.CompleteTime = timestamppb.New(now), timestamppb.New(now)
		eventType := fulfillmentv1.FulfillmentEventType_FULFILLMENT_EVENT_TYPE_FAILED
		if outcome.Succeeded {
			f.State, f.Deliveries = fulfillmentv1.FulfillmentState_FULFILLMENT_STATE_SUCCEEDED, outcome.Deliveries
			eventType = fulfillmentv1.FulfillmentEventType_FULFILLMENT_EVENT_TYPE_SUCCEEDED
		} else {
			f.State, f.Failure = fulfillmentv1.FulfillmentState_FULFILLMENT_STATE_FAILED, outcome.Failure
		}
		deliveries, err := encodeDeliveries(f.Deliveries)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, "UPDATE fulfillments SET state = ?, deliveries = ?, failure_reason = ?,"+
			" failure_message = ?, biller_reference = ?, request_due = 0, update_time = ?, complete_time = ? WHERE id = ?",
			int32(f.State), deliveries, int32(f.GetFailure().GetReason()), f.GetFailure().GetMessage(),
			f.BillerReference, micros(now), micros(now), f.Id)
		if err != nil {
			return err
		}
		result = f
		return s.addEvent(ctx, tx, eventType, f, now, r.trace)
	})
	if err != nil {
		return nil, false, dbError("complete fulfillment "+id, err)
	}
	if !duplicate {
		s.written()
	}
	return result, duplicate, nil
}

func sameOutcome(f *fulfillmentv1.Fulfillment, outcome Outcome) bool {
	if outcome.Succeeded {
		if f.State != fulfillmentv1.FulfillmentState_FULFILLMENT_STATE_SUCCEEDED || len(f.Deliveries) != len(outcome.Deliveries) {
			return false
		}
		for i, d := range f.Deliveries {
			if !proto.Equal(d, outcome.Deliveries[i]) {
				return false
			}
		}
		return true
	}
	return f.State == fulfillmentv1.FulfillmentState_FULFILLMENT_STATE_FAILED &&
		f.GetFailure().GetReason() == outcome.Failure.GetReason() && f.GetFailure().GetMessage() == outcome.Failure.GetMessage()
}

// addEvent writes an event of f as it is now, caused by the call whose context is cause.
// Taking the event turn first makes event transactions commit one at a time, so sequences
// become visible in order.
func (s *Store) addEvent(ctx context.Context, tx *sql.Tx, eventType fulfillmentv1.FulfillmentEventType, f *fulfillmentv1.Fulfillment, now time.Time, cause telemetry.Stored) error {
	if _, err := tx.ExecContext(ctx, "UPDATE fulfillment_event_turn SET turn = turn + 1 WHERE id = 1"); err != nil {
		return err
	}
	snapshot, err := proto.Marshal(f)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, "INSERT INTO fulfillment_events (fulfillment_id, type, snapshot, create_time,"+
		" traceparent, tracestate) VALUES (?, ?, ?, ?, ?, ?)",
		f.Id, int32(eventType), snapshot, micros(now), cause.Traceparent, cause.Tracestate)
	return err
}

// EventsAfter are at most limit events whose sequence is greater than after, in order.
func (s *Store) EventsAfter(ctx context.Context, after int64, limit int) ([]*fulfillmentv1.FulfillmentEvent, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT sequence, type, snapshot, create_time, traceparent, tracestate FROM fulfillment_events"+
		" WHERE sequence > ? ORDER BY sequence LIMIT ?", after, limit)
	if err != nil {
		return nil, dbError("read the events", err)
	}
	defer rows.Close()
	var events []*fulfillmentv1.FulfillmentEvent
	for rows.Next() {
		var (
			sequence, created int64
			eventType         int32
			snapshot          []byte
			cause             telemetry.Stored
		)
		if err := rows.Scan(&sequence, &eventType, &snapshot, &created, &cause.Traceparent, &cause.Tracestate); err != nil {
			return nil, dbError("read the events", err)
		}
		f := &fulfillmentv1.Fulfillment{}
		if err := proto.Unmarshal(snapshot, f); err != nil {
			return nil, dbError("read the events", err)
		}
		events = append(events, &fulfillmentv1.FulfillmentEvent{
			Sequence: sequence, Type: fulfillmentv1.FulfillmentEventType(eventType), Fulfillment: f,
			CreateTime: timestamppb.New(fromMicros(created)), TraceContext: cause.Proto(),
		})
	}
	return events, dbError("read the events", rows.Err())
}

type scanner interface{ Scan(dest ...any) error }

// record is a fulfillment's row: the message, the request marker and the creation context.
type record struct {
	f     *fulfillmentv1.Fulfillment
	due   bool
	trace telemetry.Stored
}

func scanOne(row *sql.Row) (record, error) {
	r, err := scan(row)
	if errors.Is(err, sql.ErrNoRows) {
		return record{}, ErrNotFound
	}
	return r, err
}

func scan(row scanner) (record, error) {
	var (
		f                                 fulfillmentv1.Fulfillment
		kind, state, failureReason        int32
		currency, destination, deliveries string
		failureMessage                    string
		amount, created, updated          int64
		completed                         sql.NullInt64
		due                               int64
		trace                             telemetry.Stored
	)
	err := row.Scan(&f.Id, &f.OrderId, &f.PackageId, &f.ProductId, &kind, &f.Quantity, &currency, &amount,
		&destination, &state, &deliveries, &failureReason, &failureMessage, &f.Biller, &f.BillerReference,
		&created, &updated, &completed, &due, &trace.Traceparent, &trace.Tracestate)
	if err != nil {
		return record{}, err
	}
	f.DeliveryKind = productv1.DeliveryKind(kind)
	f.State = fulfillmentv1.FulfillmentState(state)
	f.Amount = &commonv1.Money{CurrencyCode: currency, Amount: amount}
	if err := json.Unmarshal([]byte(destination), &f.Destination); err != nil {
		return record{}, err
	}
	if f.Deliveries, err = decodeDeliveries(deliveries); err != nil {
		return record{}, err
	}
	if failureReason != 0 || failureMessage != "" {
		f.Failure = &fulfillmentv1.Failure{Reason: fulfillmentv1.FailureReason(failureReason), Message: failureMessage}
	}
	f.CreateTime, f.UpdateTime = timestamppb.New(fromMicros(created)), timestamppb.New(fromMicros(updated))
	if completed.Valid {
		f.CompleteTime = timestamppb.New(fromMicros(completed.Int64))
	}
	return record{f: &f, due: due == 1, trace: trace}, nil
}

type storedDelivery struct {
	SerialNumber string `json:"serial_number,omitempty"`
	Token        string `json:"token,omitempty"`
	Kwh          string `json:"kwh,omitempty"`
	VoucherCode  string `json:"voucher_code,omitempty"`
}

func encodeDeliveries(deliveries []*fulfillmentv1.Delivery) (string, error) {
	stored := make([]storedDelivery, 0, len(deliveries))
	for _, d := range deliveries {
		stored = append(stored, storedDelivery{d.GetSerialNumber(), d.GetToken(), d.GetKwh(), d.GetVoucherCode()})
	}
	text, err := json.Marshal(stored)
	return string(text), err
}

func decodeDeliveries(text string) ([]*fulfillmentv1.Delivery, error) {
	var stored []storedDelivery
	if err := json.Unmarshal([]byte(text), &stored); err != nil {
		return nil, err
	}
	var deliveries []*fulfillmentv1.Delivery
	for _, d := range stored {
		deliveries = append(deliveries, &fulfillmentv1.Delivery{SerialNumber: d.SerialNumber, Token: d.Token, Kwh: d.Kwh, VoucherCode: d.VoucherCode})
	}
	return deliveries, nil
}

// dbError is err naming the operation it ended, for the logs; nil and the store's own
// errors (ErrNotFound, *ConflictError, *NotPendingError) pass unchanged. Wrapped with %w,
// a database error is still told apart by database.Classify and database.IsDuplicateKey.
func dbError(operation string, err error) error {
	var conflict *ConflictError
	var notPending *NotPendingError
	if err == nil || errors.Is(err, ErrNotFound) || errors.As(err, &conflict) || errors.As(err, &notPending) {
		return err
	}
	return fmt.Errorf("cannot %s: %w", operation, err)
}

// isID tells whether id has the form newID gives. Any other id names no fulfillment, and
// is never compared with the column: MySQL refuses to compare a non-ASCII value with the
// ASCII ids (error 1267), which would make a notification's odd id an INTERNAL error.
func isID(id string) bool {
	digits, ok := strings.CutPrefix(id, idPrefix)
	if !ok || len(digits) != 32 {
		return false
	}
	_, err := hex.DecodeString(digits)
	return err == nil && strings.ToLower(digits) == digits
}

const idPrefix = "ful_"

// newID is "ful_" and 32 random lower-case hexadecimal digits.
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return idPrefix + hex.EncodeToString(b[:])
}

func micros(t time.Time) int64         { return t.UnixMicro() }
func fromMicros(value int64) time.Time { return time.UnixMicro(value).UTC() }
