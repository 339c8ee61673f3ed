package store_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	commonv1 "github.com/pasar-shop/pasar/contracts/go/pasar/common/v1"
	fulfillmentv1 "github.com/pasar-shop/pasar/contracts/go/pasar/fulfillment/v1"
	productv1 "github.com/pasar-shop/pasar/contracts/go/pasar/product/v1"

	"github.com/pasar-shop/pasar/svc-fulfillment/internal/store"
	"github.com/pasar-shop/pasar/svc-fulfillment/internal/testdb"
)

func line(orderID string) store.NewFulfillment {
	return store.NewFulfillment{
		OrderID: orderID, PackageID: "pln-20k", ProductID: "token-pln",
		Kind: productv1.DeliveryKind_DELIVERY_KIND_ELECTRICITY_TOKEN, Quantity: 1,
		Amount:      &commonv1.Money{CurrencyCode: "IDR", Amount: 20000},
		Destination: map[string]string{"meter_number": "14123456789"}, Biller: "sandbox",
	}
}

// eachDatabase runs test on SQLite, and on MySQL when PASAR_TEST_MYSQL_URL is set.
func eachDatabase(t *testing.T, test func(t *testing.T, s *store.Store)) {
	for _, kind := range testdb.Kinds() {
		t.Run(kind, func(t *testing.T) { test(t, store.New(testdb.Open(t, kind), nil)) })
	}
}

func TestCreateIsIdempotentOnTheLine(t *testing.T) {
	eachDatabase(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		first, created, err := s.Create(ctx, line("ord-1"))
		if err != nil || !created {
			t.Fatalf("created %v, err %v", created, err)
		}
		again, created, err := s.Create(ctx, line("ord-1"))
		if err != nil || created || again.GetId() != first.GetId() {
			t.Fatalf("a retry returns the existing fulfillment: %v %v %v", again, created, err)
		}
		if !equal(first, again) {
			t.Fatalf("the retry's fulfillment differs:\n%v\n%v", first, again)
		}
		other, created, err := s.Create(ctx, line("ORD-1")) // order ids differing in case are other orders
		if err != nil || !created || other.GetId() == first.GetId() {
			t.Fatalf("ORD-1 is another order: %v %v", created, err)
		}
	})
}

func equal(a, b *fulfillmentv1.Fulfillment) bool { return a.String() == b.String() }

func TestCreateWithOtherContentConflicts(t *testing.T) {
	changes := []struct {
		name   string
		change func(*store.NewFulfillment)
	}{
		{"product", func(n *store.NewFulfillment) { n.ProductID = "other" }},
		{"kind", func(n *store.NewFulfillment) { n.Kind = productv1.DeliveryKind_DELIVERY_KIND_VOUCHER_CODE }},
		{"quantity", func(n *store.NewFulfillment) { n.Quantity = 2 }},
		{"amount", func(n *store.NewFulfillment) { n.Amount = &commonv1.Money{CurrencyCode: "IDR", Amount: 20001} }},
		{"currency", func(n *store.NewFulfillment) { n.Amount = &commonv1.Money{CurrencyCode: "USD", Amount: 20000} }},
		{"destination", func(n *store.NewFulfillment) { n.Destination = map[string]string{"meter_number": "14123456780"} }},
		{"destination key", func(n *store.NewFulfillment) { n.Destination = map[string]string{"meter": "14123456789"} }},
	}
	eachDatabase(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		existing, _, err := s.Create(ctx, line("ord-2"))
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range changes {
			t.Run(c.name, func(t *testing.T) {
				n := line("ord-2")
				c.change(&n)
				_, _, err := s.Create(ctx, n)
				var conflict *store.ConflictError
				if !errors.As(err, &conflict) || conflict.Existing.GetId() != existing.GetId() {
					t.Fatalf("got %v, want a conflict naming %s", err, existing.GetId())
				}
			})
		}
	})
}

func TestConcurrentCreatesOfOneLineMakeOneFulfillment(t *testing.T) {
	eachDatabase(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		const callers = 16
		ids := make([]string, callers)
		errs := make([]error, callers)
		var wg sync.WaitGroup
		for i := range callers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				f, _, err := s.Create(ctx, line("ord-race"))
				ids[i], errs[i] = f.GetId(), err
			}()
		}
		wg.Wait()
		for i := range callers {
			if errs[i] != nil {
				t.Fatalf("caller %d: %v", i, errs[i])
			}
			if ids[i] != ids[0] {
				t.Fatalf("callers got different fulfillments: %s, %s", ids[0], ids[i])
			}
		}
		events, err := s.EventsAfter(ctx, 0, 100)
		if err != nil || len(events) != 1 {
			t.Fatalf("one CREATED event, got %d (%v)", len(events), err)
		}
		due, err := s.DueRequests(ctx, 100)
		if err != nil || len(due) != 1 {
			t.Fatalf("one request due, got %d (%v)", len(due), err)
		}
	})
}

func TestCompleteOnceThenDuplicateOrNotPending(t *testing.T) {
	eachDatabase(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f, _, err := s.Create(ctx, line("ord-3"))
		if err != nil {
			t.Fatal(err)
		}
		if err := s.MarkRequested(ctx, f.GetId(), "REF-1"); err != nil {
			t.Fatal(err)
		}
		requested, _ := s.Get(ctx, f.GetId())
		if requested.GetBillerReference() != "REF-1" || requested.GetUpdateTime().AsTime().Before(f.GetUpdateTime().AsTime()) ||
			!requested.GetCreateTime().AsTime().Equal(f.GetCreateTime().AsTime()) {
			t.Fatalf("the acceptance records the reference and moves update_time: %v", requested)
		}
		if err := s.MarkRequested(ctx, f.GetId(), "REF-2"); err != nil {
			t.Fatal(err)
		}
		if again, _ := s.Get(ctx, f.GetId()); !equal(again, requested) {
			t.Fatalf("a repeated acceptance changes nothing: %v", again)
		}
		succeeded := store.Outcome{Reference: "REF-1", Succeeded: true, Deliveries: []*fulfillmentv1.Delivery{
			{SerialNumber: "1234567890123456", Token: "1234-5678-9012-3456-7890", Kwh: "13.84"}}}
		if _, _, err := s.Complete(ctx, f.GetId(), store.Outcome{Reference: "REF-OTHER", Succeeded: true}); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("another reference: got %v, want ErrNotFound", err)
		}
		if _, _, err := s.Complete(ctx, "ful_00000000000000000000000000000000", succeeded); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("unknown id: got %v", err)
		}
		done, duplicate, err := s.Complete(ctx, f.GetId(), succeeded)
		if err != nil || duplicate || done.GetState() != fulfillmentv1.FulfillmentState_FULFILLMENT_STATE_SUCCEEDED ||
			done.GetCompleteTime() == nil || len(done.GetDeliveries()) != 1 {
			t.Fatalf("got %v %v %v", done, duplicate, err)
		}
		again, duplicate, err := s.Complete(ctx, f.GetId(), succeeded)
		if err != nil || !duplicate || !equal(again, done) {
			t.Fatalf("a repeat is a duplicate returning the fulfillment unchanged: %v %v", duplicate, err)
		}
		failed := store.Outcome{Reference: "REF-1", Failure: &fulfillmentv1.Failure{Reason: fulfillmentv1.FailureReason_FAILURE_REASON_BILLER_ERROR}}
		var notPending *store.NotPendingError
		if _, _, err := s.Complete(ctx, f.GetId(), failed); !errors.As(err, &notPending) {
			t.Fatalf("another outcome: got %v, want NotPendingError", err)
		}
		read, err := s.Get(ctx, f.GetId())
		if err != nil || !equal(read, done) {
			t.Fatalf("Get reads what Complete returned: %v", err)
		}
		events, _ := s.EventsAfter(ctx, 0, 100)
		if len(events) != 2 || events[1].GetType() != fulfillmentv1.FulfillmentEventType_FULFILLMENT_EVENT_TYPE_SUCCEEDED ||
			!equal(events[1].GetFulfillment(), done) || events[0].GetSequence() >= events[1].GetSequence() {
			t.Fatalf("CREATED then SUCCEEDED with the fulfillment as it became: %v", events)
		}
		if after, _ := s.EventsAfter(ctx, events[0].GetSequence(), 100); len(after) != 1 {
			t.Fatalf("EventsAfter starts after the cursor: %d", len(after))
		}
	})
}

func TestNotificationBeforeTheAcceptanceIsRecorded(t *testing.T) {
	// The biller may answer before the request worker records its acceptance: the answer
	// records the reference and ends the request's due marker.
	eachDatabase(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f, _, _ := s.Create(ctx, line("ord-4"))
		failed := store.Outcome{Reference: "REF-4", Failure: &fulfillmentv1.Failure{Reason: fulfillmentv1.FailureReason_FAILURE_REASON_DESTINATION_REFUSED, Message: "no"}}
		done, _, err := s.Complete(ctx, f.GetId(), failed)
		if err != nil || done.GetBillerReference() != "REF-4" || done.GetFailure().GetMessage() != "no" {
			t.Fatalf("got %v %v", done, err)
		}
		if due, _ := s.DueRequests(ctx, 10); len(due) != 0 {
			t.Fatalf("the request is no longer due: %v", due)
		}
		if err := s.MarkRequested(ctx, f.GetId(), "REF-4"); err != nil {
			t.Fatal(err)
		}
	})
}

func TestGetUnknown(t *testing.T) {
	eachDatabase(t, func(t *testing.T, s *store.Store) {
		if _, err := s.Get(context.Background(), "ful_00000000000000000000000000000000"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("got %v", err)
		}
	})
}

// A notification's fulfillment id is the biller's text: one that is not of the service's
// form names no fulfillment (MySQL used to refuse comparing a non-ASCII one: INTERNAL).
func TestAnIDOfAnotherFormIsNotFound(t *testing.T) {
	eachDatabase(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f, _, err := s.Create(ctx, line("ord-ids"))
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range []string{"ful_é", "", "FUL_" + f.GetId()[4:], strings.ToUpper(f.GetId()), f.GetId() + "0"} {
			if _, err := s.Get(ctx, id); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("Get(%q): %v, want ErrNotFound", id, err)
			}
			if _, _, err := s.Complete(ctx, id, store.Outcome{Reference: "REF"}); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("Complete(%q): %v, want ErrNotFound", id, err)
			}
		}
	})
}

// A stream reads every committed event after its cursor and moves the cursor to the last
// one it sent. If a writer could commit sequence n+1 while an earlier transaction still
// held n uncommitted (AUTO_INCREMENT alone allows it on MySQL), a stream would pass n and
// never send it: event writers take turns, so the later writer waits for the earlier.
func TestAnEventCommittedLateIsNotSkippedByAStream(t *testing.T) {
	for _, kind := range testdb.Kinds() {
		t.Run(kind, func(t *testing.T) {
			db := testdb.Open(t, kind)
			s := store.New(db, nil)
			ctx := context.Background()

			slow, err := db.BeginTx(ctx, nil) // another instance, in the middle of its write
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = slow.Rollback() }()
			if err := s.AddEventInTx(ctx, slow, &fulfillmentv1.Fulfillment{Id: "ful_slow"}); err != nil {
				t.Fatal(err)
			}
			created := make(chan error, 1)
			go func() {
				_, _, err := s.Create(ctx, line("ord-late"))
				created <- err
			}()
			// Give the later writer the time to commit, were it allowed to.
			select {
			case err := <-created:
				created <- err
			case <-time.After(300 * time.Millisecond):
			}

			seen := map[string]bool{}
			cursor := follow(t, s, 0, seen)
			if err := slow.Commit(); err != nil {
				t.Fatal(err)
			}
			if err := <-created; err != nil {
				t.Fatal(err)
			}
			follow(t, s, cursor, seen)
			if !seen["ful_slow"] || len(seen) != 2 {
				t.Fatalf("a stream following its cursor saw %v; want ful_slow and the new line's event", seen)
			}
		})
	}
}

// follow reads the events after cursor as a stream does, notes their fulfillments in
// seen, and returns the new cursor.
func follow(t *testing.T, s *store.Store, cursor int64, seen map[string]bool) int64 {
	t.Helper()
	events, err := s.EventsAfter(context.Background(), cursor, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range events {
		seen[e.GetFulfillment().GetId()] = true
		cursor = e.GetSequence()
	}
	return cursor
}
