package telemetry

import (
	"context"

	commonv1 "github.com/pasar-shop/pasar/contracts/go/pasar/common/v1"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// Stored is a span's W3C context as a row keeps it (columns traceparent and tracestate),
// so that work the row causes later, even after a restart, joins the same trace. Both are
// empty when the writing call was not traced.
type Stored struct {
	Traceparent string
	Tracestate  string
}

// Current is the context of ctx's span to store beside a row; empty when ctx has no
// valid span context (tracing off, or untraced work).
func Current(ctx context.Context) Stored {
	carrier := propagation.MapCarrier{}
	propagation.TraceContext{}.Inject(ctx, carrier)
	return Stored{Traceparent: carrier.Get("traceparent"), Tracestate: carrier.Get("tracestate")}
}

// FromProto is a message's TraceContext as Stored.
func FromProto(m *commonv1.TraceContext) Stored {
	return Stored{Traceparent: m.GetTraceparent(), Tracestate: m.GetTracestate()}
}

// Proto is s as the contracts' TraceContext (an empty message when s is empty).
func (s Stored) Proto() *commonv1.TraceContext {
	return &commonv1.TraceContext{Traceparent: s.Traceparent, Tracestate: s.Tracestate}
}

// SpanContext is the remote span context s names; not valid when s is empty or malformed.
func (s Stored) SpanContext() trace.SpanContext {
	if s.Traceparent == "" {
		return trace.SpanContext{}
	}
	carrier := propagation.MapCarrier{"traceparent": s.Traceparent}
	if s.Tracestate != "" {
		carrier["tracestate"] = s.Tracestate
	}
	return trace.SpanContextFromContext(propagation.TraceContext{}.Extract(context.Background(), carrier))
}

// Work describes a span for work a stored row caused (pasar_kit.telemetry's
// span_for_stored_work): its parent is the row's stored context, its links the immediate
// causes. An empty or invalid context is skipped: without a parent the span is the child of
// ctx's span, or a new trace.
type Work struct {
	Name       string
	Kind       trace.SpanKind // CONSUMER unless set
	Parent     Stored
	Links      []trace.SpanContext
	Attributes []attribute.KeyValue
}

// Messaging is the OTel messaging attributes of processing message id from destination
// (a stream or a queue), with messaging.system pasar.
func Messaging(destination, id string) []attribute.KeyValue {
	return []attribute.KeyValue{
		attribute.String("messaging.system", "pasar"),
		attribute.String("messaging.operation.type", "process"),
		attribute.String("messaging.destination.name", destination),
		attribute.String("messaging.message.id", id),
	}
}

// Start begins w's span; ctx carries it. End it with End, which records an error.
// When tracing is off it returns ctx and a no-op span.
func (t *Tracing) Start(ctx context.Context, w Work) (context.Context, trace.Span) {
	if !t.on {
		return ctx, trace.SpanFromContext(context.Background())
	}
	if parent := w.Parent.SpanContext(); parent.IsValid() {
		ctx = trace.ContextWithRemoteSpanContext(ctx, parent)
	}
	kind := w.Kind
	if kind == trace.SpanKindUnspecified {
		kind = trace.SpanKindConsumer
	}
	options := []trace.SpanStartOption{trace.WithSpanKind(kind), trace.WithAttributes(w.Attributes...)}
	parent := trace.SpanContextFromContext(ctx)
	for _, link := range w.Links {
		if link.IsValid() && !link.Equal(parent) {
			options = append(options, trace.WithLinks(trace.Link{SpanContext: link}))
		}
	}
	return t.tracer.Start(ctx, w.Name, options...)
}

// End ends span, marking it failed with err when err is not nil.
func End(span trace.Span, err error) {
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
}

// Annotate sets attributes on ctx's span (the server span, in a call); nothing when it
// does not record.
func Annotate(ctx context.Context, attributes ...attribute.KeyValue) {
	if span := trace.SpanFromContext(ctx); span.IsRecording() {
		span.SetAttributes(attributes...)
	}
}

// WithoutSpan is ctx with no current span: the database calls of a long event stream's
// polling make no spans under the stream's server span (thousands in an hour).
func WithoutSpan(ctx context.Context) context.Context {
	return trace.ContextWithSpanContext(ctx, trace.SpanContext{})
}

// MaxTracestateLength is the size of the tracestate columns: a longer tracestate (W3C
// allows 32 members) is not kept, the traceparent alone still joins the trace.
const MaxTracestateLength = 512

// ForColumns is s as the columns can hold it.
func (s Stored) ForColumns() Stored {
	if len(s.Tracestate) > MaxTracestateLength {
		s.Tracestate = ""
	}
	return s
}
