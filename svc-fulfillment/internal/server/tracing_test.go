package server_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	fulfillmentv1 "github.com/pasar-shop/pasar/contracts/go/pasar/fulfillment/v1"
	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/prototext"

	"github.com/pasar-shop/pasar/svc-fulfillment/internal/biller"
	"github.com/pasar-shop/pasar/svc-fulfillment/internal/biller/sandbox"
	"github.com/pasar-shop/pasar/svc-fulfillment/internal/store"
	"github.com/pasar-shop/pasar/svc-fulfillment/internal/telemetry"
)

const (
	createMethod = "pasar.fulfillment.v1.FulfillmentService/CreateFulfillment"
	notifyMethod = "pasar.fulfillment.v1.FulfillmentService/NotifyFulfillment"
)

// recorded is tracing on into an in-memory recorder, sampling everything.
type recorded struct {
	tracing  *telemetry.Tracing
	provider *sdktrace.TracerProvider
	spans    *tracetest.SpanRecorder
}

func traced(t *testing.T) recorded {
	t.Helper()
	spans := tracetest.NewSpanRecorder()
	provider := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	t.Cleanup(func() { _ = provider.Shutdown(context.Background()) })
	return recorded{tracing: telemetry.With(provider), provider: provider, spans: spans}
}

// caller is a span of the calling service (svc-order's checkout, a webhook adapter).
func (r recorded) caller(ctx context.Context, name string) (context.Context, trace.Span) {
	return r.provider.Tracer("caller").Start(ctx, name)
}

// waitFor is the first ended span named name of kind, waiting for the background work.
func (r recorded) waitFor(t *testing.T, name string, kind trace.SpanKind) sdktrace.ReadOnlySpan {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		for _, s := range r.spans.Ended() {
			if s.Name() == name && s.SpanKind() == kind {
				return s
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s span %q among %v", kind, name, names(r.spans.Ended()))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func names(spans []sdktrace.ReadOnlySpan) []string {
	var all []string
	for _, s := range spans {
		all = append(all, s.Name())
	}
	return all
}

func attributeOf(s sdktrace.ReadOnlySpan, key string) string {
	for _, a := range s.Attributes() {
		if string(a.Key) == key {
			return a.Value.Emit()
		}
	}
	return ""
}

// childOf fails unless child's parent is parent (same trace, parent's span id).
func childOf(t *testing.T, child, parent sdktrace.ReadOnlySpan) {
	t.Helper()
	if child.Parent().TraceID() != parent.SpanContext().TraceID() || child.Parent().SpanID() != parent.SpanContext().SpanID() {
		t.Fatalf("%q's parent is %v, not %q (%v)", child.Name(), child.Parent(), parent.Name(), parent.SpanContext())
	}
}

// sqlUnder are the database spans whose parent is s.
func (r recorded) sqlUnder(s sdktrace.ReadOnlySpan) []string {
	var statements []string
	for _, span := range r.spans.Ended() {
		if attributeOf(span, "db.system.name") != "" && span.Parent().SpanID() == s.SpanContext().SpanID() {
			statements = append(statements, span.Name())
		}
	}
	return statements
}

func traceparentOf(s sdktrace.ReadOnlySpan) string {
	return "00-" + s.SpanContext().TraceID().String() + "-" + s.SpanContext().SpanID().String() + "-01"
}

func storedTrace(t *testing.T, h *harness, table, column, id string) telemetry.Stored {
	t.Helper()
	var stored telemetry.Stored
	if err := h.db.QueryRow("SELECT traceparent, tracestate FROM "+table+" WHERE "+column+" = ? ORDER BY 1 LIMIT 1", id).
		Scan(&stored.Traceparent, &stored.Tracestate); err != nil {
		t.Fatal(err)
	}
	return stored
}

func TestTheCheckoutTraceHoldsTheFulfillmentsWholeWork(t *testing.T) {
	r := traced(t)
	h := startWith(t, r.tracing)
	watch, cancel := context.WithTimeout(h.asOrder, 10*time.Second)
	defer cancel()
	stream, err := h.public.WatchFulfillmentEvents(watch, &fulfillmentv1.WatchFulfillmentEventsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	checkout, span := r.caller(metadata.AppendToOutgoingContext(h.asOrder, "x-request-id", "req-checkout-1"), "checkout")
	created, err := h.public.CreateFulfillment(checkout, createRequest("ord-traced", "14123456789"))
	span.End()
	if err != nil {
		t.Fatal(err)
	}
	id := created.GetFulfillment().GetId()
	var events []*fulfillmentv1.FulfillmentEvent
	for len(events) < 2 {
		response, err := stream.Recv()
		if err != nil {
			t.Fatal(err)
		}
		events = append(events, response.GetEvent())
	}

	server := r.waitFor(t, createMethod, trace.SpanKindServer)
	if server.SpanContext().TraceID() != span.SpanContext().TraceID() {
		t.Fatal("CreateFulfillment's span is not in the caller's trace")
	}
	for key, want := range map[string]string{"pasar.request_id": "req-checkout-1", "pasar.fulfillment.id": id, "pasar.order.id": "ord-traced"} {
		if got := attributeOf(server, key); got != want {
			t.Errorf("server span %s = %q, want %q", key, got, want)
		}
	}
	if statements := r.sqlUnder(server); !slices.Contains(statements, "INSERT") || !slices.Contains(statements, "SELECT") {
		t.Errorf("the call's SQL spans: %v", statements)
	}
	creation := telemetry.Stored{Traceparent: traceparentOf(server)}
	if got := storedTrace(t, h, "fulfillments", "id", id); got != creation {
		t.Fatalf("the fulfillment keeps %v, want CreateFulfillment's context %v", got, creation)
	}
	for _, event := range events {
		if got := telemetry.FromProto(event.GetTraceContext()); got != creation {
			t.Errorf("%s event carries %v, want the creation context %v", event.GetType(), got, creation)
		}
	}

	hand := r.waitFor(t, "process biller-requests", trace.SpanKindConsumer)
	childOf(t, hand, server)
	for key, want := range map[string]string{"messaging.system": "pasar", "messaging.operation.type": "process",
		"messaging.destination.name": "biller-requests", "messaging.message.id": id, "pasar.fulfillment.id": id} {
		if got := attributeOf(hand, key); got != want {
			t.Errorf("hand-off span %s = %q, want %q", key, got, want)
		}
	}
	submit := r.waitFor(t, "biller submit", trace.SpanKindClient)
	childOf(t, submit, hand)
	if len(r.sqlUnder(hand)) == 0 {
		t.Error("the request's record has no SQL span")
	}
	notification := r.waitFor(t, "process biller-notifications", trace.SpanKindConsumer)
	childOf(t, notification, server)
	if len(notification.Links()) != 0 {
		t.Errorf("the sandbox's answer came from no traced call, yet links %v", notification.Links())
	}
	for _, s := range r.spans.Ended() {
		if attributeOf(s, "db.system.name") != "" && !s.Parent().IsValid() {
			t.Fatalf("a database call outside any span made a span of its own: %s", s.Name())
		}
		if system := attributeOf(s, "db.system.name"); system != "" && attributeOf(s, "db.system") != system {
			t.Fatalf("%s's db.system %q, want %q as the Python services' SQL spans name it", s.Name(), attributeOf(s, "db.system"), system)
		}
	}
}

func TestTheNotificationsOwnCallIsALinkOfTheSpanThatAppliesIt(t *testing.T) {
	r := traced(t)
	h := startWith(t, r.tracing)
	checkout, span := r.caller(h.asOrder, "checkout")
	created, err := h.public.CreateFulfillment(checkout, createRequest("ord-late-traced", "14123450009")) // the sandbox answers in an hour
	span.End()
	if err != nil {
		t.Fatal(err)
	}
	id := created.GetFulfillment().GetId()
	payload := sandbox.EncodeNotification(id, store.Outcome{Reference: sandbox.Reference(id),
		Failure: &fulfillmentv1.Failure{Reason: fulfillmentv1.FailureReason_FAILURE_REASON_BILLER_ERROR, Message: "timeout"}})
	webhook, hook := r.caller(h.asOrder, "webhook")
	if _, err := h.public.NotifyFulfillment(webhook, &fulfillmentv1.NotifyFulfillmentRequest{Biller: "sandbox",
		Payload: payload, Signature: biller.Sign(secret, payload)}); err != nil {
		t.Fatal(err)
	}
	hook.End()

	server := r.waitFor(t, createMethod, trace.SpanKindServer)
	notify := r.waitFor(t, notifyMethod, trace.SpanKindServer)
	applied := r.waitFor(t, "process biller-notifications", trace.SpanKindConsumer)
	childOf(t, applied, server)
	links := applied.Links()
	if len(links) != 1 || links[0].SpanContext.SpanID() != notify.SpanContext().SpanID() ||
		links[0].SpanContext.TraceID() != hook.SpanContext().TraceID() {
		t.Fatalf("links %v, want NotifyFulfillment's span %v in the webhook's trace", links, notify.SpanContext())
	}
	if len(r.sqlUnder(applied)) == 0 {
		t.Error("the outcome's transaction has no SQL span under the span that applies it")
	}
	var failed telemetry.Stored
	if err := h.db.QueryRow("SELECT traceparent, tracestate FROM fulfillment_events WHERE fulfillment_id = ? AND type = ?",
		id, int32(fulfillmentv1.FulfillmentEventType_FULFILLMENT_EVENT_TYPE_FAILED)).Scan(&failed.Traceparent, &failed.Tracestate); err != nil {
		t.Fatal(err)
	}
	if failed.Traceparent != traceparentOf(server) {
		t.Fatalf("the FAILED event keeps %v, want the creation context %s (the contract's rule)", failed, traceparentOf(server))
	}
}

// The OpenTelemetry handler is outermost: the pipeline's statuses reach the caller with
// their details exactly as with tracing off, and the call to svc-product joins the trace.
func TestErrorDetailsAreUnchangedWithTracingOn(t *testing.T) {
	r := traced(t)
	on, off := startWith(t, r.tracing), start(t)
	cases := []struct {
		name string
		call func(h *harness) (any, error)
		code codes.Code
	}{
		{"invalid request", func(h *harness) (any, error) {
			return h.public.CreateFulfillment(h.asOrder, createRequest("", "14123456789"))
		}, codes.InvalidArgument},
		{"conflict", func(h *harness) (any, error) {
			return h.public.CreateFulfillment(h.asOrder, createRequest("ord-details", "14123456788"))
		}, codes.AlreadyExists},
		{"unknown fulfillment", func(h *harness) (any, error) {
			return h.public.GetFulfillment(h.asOrder, &fulfillmentv1.GetFulfillmentRequest{Id: "ful_00000000000000000000000000000000"})
		}, codes.NotFound},
		{"svc-product's NOT_FOUND passed through", func(h *harness) (any, error) {
			return h.public.LookupDestination(context.Background(), &fulfillmentv1.LookupDestinationRequest{ProductId: "no-such-product",
				Destination: map[string]string{"meter_number": "14123456789"}})
		}, codes.NotFound},
		{"an internal method without the caller's token", func(h *harness) (any, error) {
			return h.public.GetFulfillment(context.Background(), &fulfillmentv1.GetFulfillmentRequest{Id: "ful_00000000000000000000000000000000"})
		}, codes.Unauthenticated},
	}
	// Each harness's fulfillment id, which a conflict names, is read as one word.
	ids := map[*harness]string{}
	for _, h := range []*harness{on, off} {
		created, err := h.public.CreateFulfillment(h.asOrder, createRequest("ord-details", "14123456789"))
		if err != nil {
			t.Fatal(err)
		}
		ids[h] = created.GetFulfillment().GetId()
	}
	text := func(h *harness, err error) string {
		return strings.ReplaceAll(prototext.Format(status.Convert(err).Proto()), ids[h], "ID")
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			response, traced := c.call(on)
			_, untraced := c.call(off)
			if status.Code(traced) != c.code {
				t.Fatalf("code %v, want %v", status.Code(traced), c.code)
			}
			withTracing, without := text(on, traced), text(off, untraced)
			if len(status.Convert(traced).Details()) == 0 || withTracing != without {
				t.Fatalf("with tracing %s, without %s (response %v)", withTracing, without, response)
			}
		})
	}
	lookup := r.waitFor(t, "pasar.fulfillment.v1.FulfillmentService/LookupDestination", trace.SpanKindServer)
	product := r.waitFor(t, "pasar.product.v1.ProductService/GetProduct", trace.SpanKindClient)
	childOf(t, product, lookup)
	catalog := r.waitFor(t, "pasar.product.v1.ProductService/GetProduct", trace.SpanKindServer)
	childOf(t, catalog, product)
}

func TestTracingOffStoresNoContext(t *testing.T) {
	h := start(t) // off; the caller traces and sends its traceparent all the same
	r := traced(t)
	conn, err := grpc.NewClient(h.conn.Target(), grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithStatsHandler(otelgrpc.NewClientHandler(otelgrpc.WithTracerProvider(r.provider), otelgrpc.WithPropagators(telemetry.Propagator()))))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	checkout, span := r.caller(h.asOrder, "checkout")
	created, err := fulfillmentv1.NewFulfillmentServiceClient(conn).CreateFulfillment(checkout, createRequest("ord-untraced", "14123456789"))
	span.End()
	if err != nil {
		t.Fatal(err)
	}
	r.waitFor(t, createMethod, trace.SpanKindClient) // else the test would prove nothing
	id := created.GetFulfillment().GetId()
	if got := storedTrace(t, h, "fulfillments", "id", id); got != (telemetry.Stored{}) {
		t.Fatalf("tracing off, the fulfillment keeps %v", got)
	}
	if got := storedTrace(t, h, "fulfillment_events", "fulfillment_id", id); got != (telemetry.Stored{}) {
		t.Fatalf("tracing off, the event keeps %v", got)
	}
}
