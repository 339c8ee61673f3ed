package service

import (
	"context"
	"errors"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/pasar-shop/pasar/svc-fulfillment/internal/telemetry"
	"github.com/pasar-shop/pasar/svc-fulfillment/internal/testdb"
)

// process is one traced process: its own provider and recorder, as after a restart.
func process(t *testing.T) (*telemetry.Tracing, *sdktrace.TracerProvider, *tracetest.SpanRecorder) {
	t.Helper()
	spans := tracetest.NewSpanRecorder()
	provider := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	t.Cleanup(func() { _ = provider.Shutdown(context.Background()) })
	return telemetry.With(provider), provider, spans
}

func ended(spans *tracetest.SpanRecorder, name string) sdktrace.ReadOnlySpan {
	for _, s := range spans.Ended() {
		if s.Name() == name {
			return s
		}
	}
	return nil
}

// The stored context is the database's: a process that did not see the call still does
// the biller hand-off and applies the answer in the creating call's trace.
func TestWorkAfterARestartJoinsTheCreatingCallsTrace(t *testing.T) {
	for _, kind := range testdb.Kinds() {
		t.Run(kind, func(t *testing.T) {
			ctx := context.Background()
			db := testdb.Open(t, kind)
			firstTracing, firstProvider, _ := process(t)
			call, span := firstProvider.Tracer("grpc").Start(ctx, "CreateFulfillment", trace.WithSpanKind(trace.SpanKindServer))
			crashing := newTracedInstance(db, true, firstTracing)
			response, err := crashing.service.CreateFulfillment(call, createRequest("ord-restart-traced"))
			span.End()
			if err != nil {
				t.Fatal(err)
			}
			if err := crashing.service.requestDue(ctx); !errors.Is(err, errCrash) {
				t.Fatalf("the first process must die after the biller accepted: %v", err)
			}

			tracing, _, spans := process(t)
			restarted := newTracedInstance(db, false, tracing)
			if err := restarted.service.requestDue(ctx); err != nil {
				t.Fatal(err)
			}
			if err := restarted.biller.AnswerDue(ctx); err != nil {
				t.Fatal(err)
			}
			for _, name := range []string{"process biller-requests", "process biller-notifications"} {
				work := ended(spans, name)
				if work == nil {
					t.Fatalf("no %q span after the restart", name)
				}
				if work.Parent().TraceID() != span.SpanContext().TraceID() || work.Parent().SpanID() != span.SpanContext().SpanID() {
					t.Fatalf("%q's parent %v, want the creating call %v", name, work.Parent(), span.SpanContext())
				}
			}
			events, err := restarted.store.EventsAfter(ctx, 0, 10)
			if err != nil || len(events) != 2 {
				t.Fatalf("events %v %v", events, err)
			}
			creation := telemetry.Current(trace.ContextWithSpanContext(ctx, span.SpanContext()))
			for _, event := range events {
				if event.GetFulfillment().GetId() != response.GetFulfillment().GetId() || telemetry.FromProto(event.GetTraceContext()) != creation {
					t.Fatalf("%s carries %v, want %v", event.GetType(), event.GetTraceContext(), creation)
				}
			}
		})
	}
}
