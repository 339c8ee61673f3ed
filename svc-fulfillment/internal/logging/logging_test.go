package logging

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

func TestMaskValue(t *testing.T) {
	cases := []struct{ value, want string }{
		{"081234567890", "*********890"},
		{"14123456789", "********789"},
		{"1234", "*234"},
		{"123", "***"}, // too short to keep anything
		{"", ""},
		{"nomorü12", "*****ü12"}, // characters, not bytes
	}
	for _, c := range cases {
		if got := MaskValue(c.value); got != c.want {
			t.Errorf("MaskValue(%q) = %q, want %q", c.value, got, c.want)
		}
	}
	masked := MaskDestination(map[string]string{"user_id": "123456", "zone_id": "2001"})
	if masked["user_id"] != "***456" || masked["zone_id"] != "*001" {
		t.Errorf("got %v", masked)
	}
}

func TestJSONLinesHaveThePythonServicesFields(t *testing.T) {
	var out bytes.Buffer
	log := Named(New(&out, "svc-fulfillment", "info", "json"), "pasar.rpc")
	log.WarnContext(WithRequestID(context.Background(), "req-1"), "database does not answer", "port", 50054)
	log.Debug("not shown at info")
	var entry map[string]any
	if err := json.Unmarshal(out.Bytes(), &entry); err != nil {
		t.Fatalf("one JSON object per line: %v (%s)", err, out.String())
	}
	want := map[string]any{"level": "warning", "service": "svc-fulfillment", "logger": "pasar.rpc",
		"message": "database does not answer", "request_id": "req-1", "port": float64(50054)}
	for key, value := range want {
		if entry[key] != value {
			t.Errorf("%s = %v, want %v", key, entry[key], value)
		}
	}
	if _, ok := entry["time"].(string); !ok {
		t.Error("no time")
	}
}

func TestTextLinesReadLikeThePythonServices(t *testing.T) {
	var out bytes.Buffer
	log := Named(New(&out, "svc-fulfillment", "info", "text"), "pasar.rpc")
	log.InfoContext(WithRequestID(context.Background(), "0123456789abcdef"), "rpc", "code", "OK")
	log.Warn("database does not answer")
	want := "info    01234567 rpc  code=OK\nwarning -        database does not answer\n"
	if out.String() != want {
		t.Fatalf("got %q, want %q", out.String(), want)
	}
}

func TestTraceIdsOnLinesWrittenInsideARecordingSpan(t *testing.T) {
	provider := sdktrace.NewTracerProvider()
	defer func() { _ = provider.Shutdown(context.Background()) }()
	recording, span := provider.Tracer("test").Start(context.Background(), "call")
	defer span.End()
	notRecording := trace.ContextWithSpanContext(context.Background(), span.SpanContext()) // a remote parent only
	cases := []struct {
		name      string
		ctx       context.Context
		wantTrace string
		wantSpan  string
	}{
		{"recording span", recording, span.SpanContext().TraceID().String(), span.SpanContext().SpanID().String()},
		{"no span", context.Background(), "", ""},
		{"a span context that does not record", notRecording, "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var out bytes.Buffer
			New(&out, "svc-fulfillment", "info", "json").InfoContext(WithRequestID(c.ctx, "req-1"), "rpc")
			var entry map[string]any
			if err := json.Unmarshal(out.Bytes(), &entry); err != nil {
				t.Fatal(err)
			}
			traceID, _ := entry["trace_id"].(string)
			spanID, _ := entry["span_id"].(string)
			if traceID != c.wantTrace || spanID != c.wantSpan || entry["request_id"] != "req-1" {
				t.Fatalf("trace_id %q span_id %q request_id %v, want %q %q req-1", traceID, spanID, entry["request_id"], c.wantTrace, c.wantSpan)
			}
		})
	}
}
