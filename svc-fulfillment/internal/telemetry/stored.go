package telemetry

import (
	"context"
	"slices"
	"strings"

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

// Current is the context of ctx's span to store beside a row (its tracestate cut to what
// the columns and the contract hold); empty when ctx has no valid span context (tracing
// off, or untraced work).
func Current(ctx context.Context) Stored {
	carrier := propagation.MapCarrier{}
	propagation.TraceContext{}.Inject(ctx, carrier)
	return Stored{Traceparent: carrier.Get("traceparent"), Tracestate: fittedTracestate(carrier.Get("tracestate"))}
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

// MaxTracestateLength is what TraceContext.tracestate and the tracestate columns hold:
// the length W3C Trace Context asks every vendor to pass on. A caller may send 32
// entries of 256 characters; Current cuts a longer one as pasar_kit.telemetry does.
const MaxTracestateLength = 512

// longTracestateEntry is the length above which W3C lets an entry be dropped first.
const longTracestateEntry = 128

// fittedTracestate is tracestate cut to MaxTracestateLength as W3C Trace Context says:
// whole entries only, those longer than 128 characters dropped first (the last first),
// then entries from the end, until it fits.
func fittedTracestate(tracestate string) string {
	if len(tracestate) <= MaxTracestateLength {
		return tracestate
	}
	var entries []string
	for _, entry := range strings.Split(tracestate, ",") {
		if entry = strings.TrimSpace(entry); entry != "" {
			entries = append(entries, entry)
		}
	}
	for len(strings.Join(entries, ",")) > MaxTracestateLength {
		drop := len(entries) - 1
		for i := len(entries) - 1; i >= 0; i-- {
			if len(entries[i]) > longTracestateEntry {
				drop = i
				break
			}
		}
		entries = slices.Delete(entries, drop, drop+1)
	}
	return strings.Join(entries, ",")
}
