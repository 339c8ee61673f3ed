package sandbox

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	productv1 "github.com/pasar-shop/pasar/contracts/go/pasar/product/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/pasar-shop/pasar/svc-fulfillment/internal/testdb"
)

// A job whose notification fails for a passing reason is tried again later; the jobs due
// after it are answered meanwhile, not held back behind it.
func TestAJobWhoseAnswerFailsDoesNotHoldBackTheOthers(t *testing.T) {
	ctx := context.Background()
	failing := ""
	answered := map[string]int{}
	box := New(testdb.Open(t, "sqlite"), "secret", 0, time.Hour,
		func(_ context.Context, _ string, payload []byte, _ string) error {
			var p Payload
			if err := json.Unmarshal(payload, &p); err != nil {
				return err
			}
			if p.FulfillmentID == failing {
				return status.Error(codes.Internal, "internal error")
			}
			answered[p.FulfillmentID]++
			return nil
		}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	clock := time.Now()
	box.now = func() time.Time { return clock }
	first := fulfillment(productv1.DeliveryKind_DELIVERY_KIND_ELECTRICITY_TOKEN, 1, 20000)
	first.Id = "ful_" + strings.Repeat("1", 32)
	second := fulfillment(productv1.DeliveryKind_DELIVERY_KIND_ELECTRICITY_TOKEN, 1, 20000)
	second.Id = "ful_" + strings.Repeat("2", 32)
	if _, err := box.Request(ctx, first); err != nil {
		t.Fatal(err)
	}
	clock = clock.Add(time.Millisecond) // the second job is due after the first
	if _, err := box.Request(ctx, second); err != nil {
		t.Fatal(err)
	}
	clock = clock.Add(time.Second)

	failing = first.Id
	if err := box.AnswerDue(ctx); err == nil {
		t.Fatal("the failed answer is reported")
	}
	if answered[second.Id] != 1 {
		t.Fatalf("the job after the failing one was answered %d times", answered[second.Id])
	}
	failing = ""
	if err := box.AnswerDue(ctx); err != nil {
		t.Fatal(err)
	}
	if answered[first.Id] != 1 || answered[second.Id] != 1 {
		t.Fatalf("answers %v; want one each", answered)
	}
}
