package telemetry

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/pasar-shop/pasar/svc-fulfillment/internal/config"
	"github.com/pasar-shop/pasar/svc-fulfillment/internal/logging"
)

func TestTheOnRule(t *testing.T) {
	endpoint := "http://127.0.0.1:4317"
	cases := []struct {
		name string
		env  map[string]string
		want bool
	}{
		{"nothing set", map[string]string{}, false},
		{"an endpoint", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": endpoint}, true},
		{"a traces endpoint", map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": endpoint}, true},
		{"an empty endpoint", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": ""}, false},
		{"the SDK disabled", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": endpoint, "OTEL_SDK_DISABLED": "TRUE"}, false},
		{"the SDK not disabled", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": endpoint, "OTEL_SDK_DISABLED": "false"}, true},
		{"no exporter", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": endpoint, "OTEL_TRACES_EXPORTER": "none"}, false},
		{"the otlp exporter", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": endpoint, "OTEL_TRACES_EXPORTER": "otlp"}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := Wanted(config.EnvFrom(c.env)); got != c.want {
				t.Fatalf("Wanted = %v, want %v", got, c.want)
			}
		})
	}
}

var quiet = slog.New(slog.DiscardHandler)

// Tracing on says so, and the SDK's own failures (here a collector that does not answer
// the last spans' export) are warning lines of the service's log, not text on stderr.
func TestTheSDKsFailuresAreLinesOfTheLog(t *testing.T) {
	t.Setenv("OTEL_EXPORTER_OTLP_TIMEOUT", "200") // the exporter's own setting, read from the process
	var out bytes.Buffer
	tracing, err := Configure(context.Background(), config.EnvFrom(map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1"}),
		"svc-fulfillment", logging.New(&out, "svc-fulfillment", "info", "json"))
	if err != nil {
		t.Fatal(err)
	}
	_, span := tracing.Provider().Tracer("test").Start(context.Background(), "lost")
	span.End()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = tracing.Shutdown(ctx)
	var lines []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var entry map[string]any
		if err := json.Unmarshal([]byte(line), &entry); err != nil {
			t.Fatalf("not a JSON line: %q", line)
		}
		lines = append(lines, entry)
	}
	if len(lines) < 2 || lines[0]["message"] != "tracing on" || lines[0]["service_name"] != "svc-fulfillment" {
		t.Fatalf("the first line %v, want tracing on", lines)
	}
	failed := lines[len(lines)-1]
	if failed["level"] != "warning" || failed["logger"] != "pasar.telemetry" || failed["error"] == "" {
		t.Fatalf("the export's failure was logged as %v", failed)
	}
}

func TestConfigure(t *testing.T) {
	endpoint := map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1"}
	with := func(more map[string]string) map[string]string {
		env := map[string]string{}
		for k, v := range endpoint {
			env[k] = v
		}
		for k, v := range more {
			env[k] = v
		}
		return env
	}
	cases := []struct {
		name    string
		env     map[string]string
		on      bool
		refused string // the variable a *config.Error names
	}{
		{"off", map[string]string{}, false, ""},
		{"grpc by default", endpoint, true, ""},
		{"http/protobuf", with(map[string]string{"OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf"}), true, ""},
		{"OTEL_SERVICE_NAME wins", with(map[string]string{"OTEL_SERVICE_NAME": "fulfillment-eu",
			"OTEL_RESOURCE_ATTRIBUTES": "service.name=other, deployment.environment.name=te%73t"}), true, ""},
		{"the traces protocol wins", with(map[string]string{"OTEL_EXPORTER_OTLP_PROTOCOL": "bogus", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "grpc"}), true, ""},
		{"an unknown protocol", with(map[string]string{"OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"}), false, "OTEL_EXPORTER_OTLP_PROTOCOL"},
		{"a known sampler", with(map[string]string{"OTEL_TRACES_SAMPLER": "parentbased_traceidratio"}), true, ""},
		{"an unknown sampler", with(map[string]string{"OTEL_TRACES_SAMPLER": "sometimes"}), false, "OTEL_TRACES_SAMPLER"},
		{"a ratio above 1", with(map[string]string{"OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "1.5"}), false, "OTEL_TRACES_SAMPLER_ARG"},
		{"a ratio that is no number", with(map[string]string{"OTEL_TRACES_SAMPLER": "parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG": "half"}), false, "OTEL_TRACES_SAMPLER_ARG"},
		{"a negative ratio", with(map[string]string{"OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "-0.1"}), false, "OTEL_TRACES_SAMPLER_ARG"},
		{"no ratio for a sampler without one", with(map[string]string{"OTEL_TRACES_SAMPLER": "always_on", "OTEL_TRACES_SAMPLER_ARG": "half"}), true, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tracing, err := Configure(context.Background(), config.EnvFrom(c.env), "svc-fulfillment", quiet)
			var refused *config.Error
			if c.refused != "" {
				if !errors.As(err, &refused) || !strings.HasPrefix(refused.Message, c.refused+" ") {
					t.Fatalf("want a refusal naming %s, got %v", c.refused, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = tracing.Shutdown(context.Background()) }()
			if tracing.On() != c.on || (len(tracing.ServerOptions()) > 0) != c.on || (len(tracing.DialOptions()) > 0) != c.on {
				t.Fatalf("on %v, want %v", tracing.On(), c.on)
			}
			want := map[bool]string{true: "svc-fulfillment", false: ""}[c.on]
			if c.env["OTEL_SERVICE_NAME"] != "" {
				want = c.env["OTEL_SERVICE_NAME"]
			}
			if tracing.ServiceName() != want {
				t.Fatalf("service.name %q, want %q", tracing.ServiceName(), want)
			}
			if c.env["OTEL_RESOURCE_ATTRIBUTES"] != "" && tracing.resourceValue("deployment.environment.name") != "test" {
				t.Fatal("OTEL_RESOURCE_ATTRIBUTES' other pairs are not merged")
			}
		})
	}
}

// The sampler is the one the service's environment names (as every other setting), not
// whatever the process's environment says to the SDK.
func TestTheSamplerIsTheServicesEnvironments(t *testing.T) {
	parent := trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{0x0a, 0xf7}, SpanID: trace.SpanID{0xb7},
		TraceFlags: trace.FlagsSampled, Remote: true})
	inSampledTrace := trace.ContextWithRemoteSpanContext(context.Background(), parent)
	cases := []struct {
		sampler, ratio    string
		root, underParent bool // whether a new trace's span, and a sampled caller's child, are sampled
	}{
		{"", "", true, true},
		{"always_on", "", true, true},
		{"always_off", "", false, false},
		{"traceidratio", "0", false, false},
		{"traceidratio", "1", true, true},
		{"parentbased_always_on", "", true, true},
		{"parentbased_always_off", "", false, true},
		{"parentbased_traceidratio", "0", false, true},
		{"PARENTBASED_TRACEIDRATIO", "", true, true}, // the ratio 1 by default
	}
	for _, c := range cases {
		t.Run(c.sampler+"/"+c.ratio, func(t *testing.T) {
			tracing, err := Configure(context.Background(), config.EnvFrom(map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1",
				"OTEL_TRACES_SAMPLER": c.sampler, "OTEL_TRACES_SAMPLER_ARG": c.ratio}), "svc-fulfillment", quiet)
			if err != nil {
				t.Fatal(err)
			}
			// Nothing ends: nothing is queued for the exporter, which reaches no one.
			defer func() { _ = tracing.Shutdown(context.Background()) }()
			tracer := tracing.Provider().Tracer("test")
			_, root := tracer.Start(context.Background(), "root")
			_, child := tracer.Start(inSampledTrace, "child")
			if root.SpanContext().IsSampled() != c.root || child.SpanContext().IsSampled() != c.underParent {
				t.Fatalf("root sampled %v, child of a sampled caller %v; want %v, %v",
					root.SpanContext().IsSampled(), child.SpanContext().IsSampled(), c.root, c.underParent)
			}
		})
	}
}

func TestStoredContexts(t *testing.T) {
	const traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	cases := []struct {
		name   string
		stored Stored
		valid  bool
	}{
		{"empty", Stored{}, false},
		{"a traceparent", Stored{Traceparent: traceparent}, true},
		{"with a tracestate", Stored{Traceparent: traceparent, Tracestate: "pasar=1"}, true},
		{"malformed", Stored{Traceparent: "00-nonsense"}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sc := c.stored.SpanContext()
			if sc.IsValid() != c.valid {
				t.Fatalf("valid %v, want %v", sc.IsValid(), c.valid)
			}
			if !c.valid {
				return
			}
			back := Current(trace.ContextWithSpanContext(context.Background(), sc))
			if back != c.stored || FromProto(c.stored.Proto()) != c.stored {
				t.Fatalf("round trip %v, want %v", back, c.stored)
			}
		})
	}
	if got := Current(context.Background()); got != (Stored{}) {
		t.Fatalf("no span: %v", got)
	}
}

// A tracestate longer than the columns and the contract hold is cut as W3C Trace Context
// says (and pasar_kit.telemetry cuts it): whole entries, the long ones first, then from the
// end; the traceparent stays.
func TestATracestateIsCutToWhatTheColumnsHold(t *testing.T) {
	entry := func(key string, length int) string { return key + "=" + strings.Repeat("v", length-len(key)-1) }
	var eight, seven []string // entries of 64 characters: 8 joined are 519, 7 are 454
	for i := range 8 {
		eight = append(eight, entry(fmt.Sprintf("k%d", i), 64))
	}
	seven = eight[:7]
	join := func(entries ...string) string { return strings.Join(entries, ",") }
	cases := []struct {
		name, tracestate, want string
	}{
		{"short: kept", "pasar=1,other=2", "pasar=1,other=2"},
		{"exactly 512: kept", join(seven...) + "," + entry("last", 57), join(seven...) + "," + entry("last", 57)},
		{"entries dropped from the end", join(eight...), join(seven...)},
		{"the long entries first, the last of them first", join(entry("big", 200), eight[0], entry("huge", 250), eight[1], eight[2]),
			join(entry("big", 200), eight[0], eight[1], eight[2])},
		{"the long entries, then from the end", join(eight[0], entry("big", 200), join(eight[1:]...)), join(seven...)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			state, err := trace.ParseTraceState(c.tracestate)
			if err != nil {
				t.Fatal(err)
			}
			span := trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{1}, SpanID: trace.SpanID{2},
				TraceFlags: trace.FlagsSampled, TraceState: state})
			got := Current(trace.ContextWithSpanContext(context.Background(), span))
			if got.Tracestate != c.want || len(got.Tracestate) > MaxTracestateLength || got.Traceparent == "" {
				t.Fatalf("tracestate %q (%d characters), want %q", got.Tracestate, len(got.Tracestate), c.want)
			}
		})
	}
}

func TestWorkSpans(t *testing.T) {
	spans := tracetest.NewSpanRecorder()
	provider := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	tracing := With(provider)
	call, callSpan := provider.Tracer("test").Start(context.Background(), "call")
	defer callSpan.End()
	stored := Current(call)
	other, otherSpan := provider.Tracer("test").Start(context.Background(), "notification")
	otherSpan.End()
	cases := []struct {
		name       string
		ctx        context.Context
		work       Work
		wantParent trace.SpanContext
		wantLinks  int
	}{
		{"the stored parent, not ctx's span", other, Work{Name: "w", Parent: stored, Links: []trace.SpanContext{otherSpan.SpanContext()}},
			callSpan.SpanContext(), 1},
		{"no stored parent: ctx's span, not linked twice", other, Work{Name: "w", Links: []trace.SpanContext{otherSpan.SpanContext()}},
			otherSpan.SpanContext(), 0},
		{"nothing: a new trace", context.Background(), Work{Name: "w", Parent: Stored{Traceparent: "bad"}}, trace.SpanContext{}, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, span := tracing.Start(c.ctx, c.work)
			End(span, nil)
			ended := spans.Ended()
			got := ended[len(ended)-1]
			if got.Parent().SpanID() != c.wantParent.SpanID() || len(got.Links()) != c.wantLinks || got.SpanKind() != trace.SpanKindConsumer {
				t.Fatalf("parent %v links %d kind %v", got.Parent(), len(got.Links()), got.SpanKind())
			}
		})
	}
	if _, span := Off().Start(call, Work{Name: "off", Parent: stored}); span.IsRecording() {
		t.Fatal("tracing off made a span")
	}
}
