package service

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	commonv1 "github.com/pasar-shop/pasar/contracts/go/pasar/common/v1"
	fulfillmentv1 "github.com/pasar-shop/pasar/contracts/go/pasar/fulfillment/v1"
	productv1 "github.com/pasar-shop/pasar/contracts/go/pasar/product/v1"

	"github.com/pasar-shop/pasar/svc-fulfillment/internal/biller/sandbox"
	"github.com/pasar-shop/pasar/svc-fulfillment/internal/database"
	"github.com/pasar-shop/pasar/svc-fulfillment/internal/store"
	"github.com/pasar-shop/pasar/svc-fulfillment/internal/telemetry"
	"github.com/pasar-shop/pasar/svc-fulfillment/internal/testdb"
)

// countingBiller is the sandbox, counting the requests it was sent per fulfillment; with
// crashAfterAccept set, the first request of each fulfillment is accepted and then the
// caller "crashes" (the request returns an error, as if the process had died before
// recording the acceptance).
type countingBiller struct {
	*sandbox.Sandbox
	mu               sync.Mutex
	requests         map[string]int
	crashAfterAccept bool
	// refuseOrder is an order whose lines the biller refuses, every time.
	refuseOrder string
}

func (b *countingBiller) Request(ctx context.Context, f *fulfillmentv1.Fulfillment) (string, error) {
	b.mu.Lock()
	b.requests[f.GetId()]++
	first := b.requests[f.GetId()] == 1
	b.mu.Unlock()
	if f.GetOrderId() == b.refuseOrder {
		return "", errRefused
	}
	reference, err := b.Sandbox.Request(ctx, f)
	if err == nil && first && b.crashAfterAccept {
		return "", errCrash
	}
	return reference, err
}

var (
	errCrash   = &crash{}
	errRefused = errors.New("the biller refuses this request")
)

type crash struct{}

func (*crash) Error() string { return "the process died after the biller accepted" }

type instance struct {
	service *Service
	biller  *countingBiller
	store   *store.Store
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// newInstance is one process of the service over db, its sandbox answering at once.
func newInstance(db *database.DB, crashAfterAccept bool) *instance {
	return newTracedInstance(db, crashAfterAccept, telemetry.Off())
}

// newTracedInstance is newInstance with tracing.
func newTracedInstance(db *database.DB, crashAfterAccept bool, tracing *telemetry.Tracing) *instance {
	var svc *Service
	st := store.New(db, func() { svc.Written() })
	box := sandbox.New(db, "secret", 0, time.Hour, func(ctx context.Context, name string, payload []byte, signature string) error {
		_, err := svc.Notify(ctx, name, payload, signature)
		return err
	}, quiet)
	b := &countingBiller{Sandbox: box, requests: map[string]int{}, crashAfterAccept: crashAfterAccept}
	svc = New(Options{Store: st, Biller: b, Events: NewBroadcaster(), EventPoll: 50 * time.Millisecond,
		Stopping: make(chan struct{}), Log: quiet, Tracing: tracing})
	return &instance{service: svc, biller: b, store: st}
}

func createRequest(orderID string) *fulfillmentv1.CreateFulfillmentRequest {
	return &fulfillmentv1.CreateFulfillmentRequest{
		OrderId: orderID, PackageId: "pulsa-10k", ProductId: "pulsa-telkomsel",
		DeliveryKind: productv1.DeliveryKind_DELIVERY_KIND_PHONE_CREDIT, Quantity: 1,
		Amount:      &commonv1.Money{CurrencyCode: "IDR", Amount: 10000},
		Destination: map[string]string{"phone_number": "081234567890"},
	}
}

func count(t *testing.T, db *database.DB, query string) int {
	t.Helper()
	var n int
	if err := db.QueryRowContext(context.Background(), query).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestACrashBetweenAcceptAndRecordRepeatsTheRequestAndDeliversOnce(t *testing.T) {
	for _, kind := range testdb.Kinds() {
		t.Run(kind, func(t *testing.T) {
			ctx := context.Background()
			db := testdb.Open(t, kind)
			crashing := newInstance(db, true)
			response, err := crashing.service.CreateFulfillment(ctx, createRequest("ord-crash"))
			if err != nil {
				t.Fatal(err)
			}
			id := response.GetFulfillment().GetId()
			if err := crashing.service.requestDue(ctx); !errors.Is(err, errCrash) {
				t.Fatalf("the first instance must die after the biller accepted: %v", err)
			}
			// A new process over the same database finds the request still due and repeats it.
			restarted := newInstance(db, false)
			if err := restarted.service.requestDue(ctx); err != nil {
				t.Fatal(err)
			}
			if due, _ := restarted.store.DueRequests(ctx, 10); len(due) != 0 {
				t.Fatalf("nothing is due any more: %v", due)
			}
			if got := count(t, db, "SELECT COUNT(*) FROM sandbox_biller_jobs"); got != 1 {
				t.Fatalf("the biller holds %d jobs for one fulfillment", got)
			}
			// The sandbox answers once; a second pass of its worker finds nothing more to answer.
			for range 2 {
				if err := restarted.biller.AnswerDue(ctx); err != nil {
					t.Fatal(err)
				}
			}
			f, err := restarted.store.Get(ctx, id)
			if err != nil || f.GetState() != fulfillmentv1.FulfillmentState_FULFILLMENT_STATE_SUCCEEDED {
				t.Fatalf("got %v %v", f, err)
			}
			if f.GetBillerReference() != sandbox.Reference(id) {
				t.Fatalf("reference %q", f.GetBillerReference())
			}
			if got := count(t, db, "SELECT COUNT(*) FROM fulfillment_events WHERE type = 2"); got != 1 {
				t.Fatalf("%d SUCCEEDED events", got)
			}
		})
	}
}

func TestARequestTheBillerRefusesDoesNotHoldBackTheLinesAfterIt(t *testing.T) {
	for _, kind := range testdb.Kinds() {
		t.Run(kind, func(t *testing.T) {
			ctx := context.Background()
			db := testdb.Open(t, kind)
			one := newInstance(db, false)
			one.biller.refuseOrder = "ord-refused"
			refused, err := one.service.CreateFulfillment(ctx, createRequest("ord-refused"))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := one.service.CreateFulfillment(ctx, createRequest("ord-after")); err != nil {
				t.Fatal(err)
			}
			if err := one.service.requestDue(ctx); !errors.Is(err, errRefused) {
				t.Fatalf("the refusal is reported: %v", err)
			}
			due, err := one.store.DueRequests(ctx, 10)
			if err != nil {
				t.Fatal(err)
			}
			if len(due) != 1 || due[0].Fulfillment.GetId() != refused.GetFulfillment().GetId() {
				t.Fatalf("only the refused line is still due, not %v", due)
			}
		})
	}
}

func TestConcurrentCreatesOfOneLineAskTheBillerOnce(t *testing.T) {
	for _, kind := range testdb.Kinds() {
		t.Run(kind, func(t *testing.T) {
			ctx := context.Background()
			db := testdb.Open(t, kind)
			one := newInstance(db, false)
			workers, cancel := context.WithCancel(ctx)
			defer cancel()
			done := make(chan struct{})
			go func() { one.service.RunRequests(workers); close(done) }()
			const callers = 12
			var wg sync.WaitGroup
			var failures atomic.Int32
			ids := make([]string, callers)
			for i := range callers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					response, err := one.service.CreateFulfillment(ctx, createRequest("ord-many"))
					if err != nil {
						failures.Add(1)
						t.Error(err)
						return
					}
					ids[i] = response.GetFulfillment().GetId()
				}()
			}
			wg.Wait()
			if failures.Load() > 0 {
				t.FailNow()
			}
			deadline := time.Now().Add(5 * time.Second)
			for {
				due, err := one.store.DueRequests(ctx, 10)
				if err == nil && len(due) == 0 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("the request worker never asked the biller")
				}
				time.Sleep(10 * time.Millisecond)
			}
			cancel()
			<-done
			for _, id := range ids {
				if id != ids[0] {
					t.Fatalf("callers got %s and %s", ids[0], id)
				}
			}
			if got := count(t, db, "SELECT COUNT(*) FROM fulfillments"); got != 1 {
				t.Fatalf("%d rows for one line", got)
			}
			one.biller.mu.Lock()
			defer one.biller.mu.Unlock()
			if len(one.biller.requests) != 1 || one.biller.requests[ids[0]] != 1 {
				t.Fatalf("the biller was asked %v", one.biller.requests)
			}
		})
	}
}
