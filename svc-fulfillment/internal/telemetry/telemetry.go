// Package telemetry turns OpenTelemetry tracing on when the environment names an OTLP
// endpoint, by the rule every Pasar component follows (pasar_kit.telemetry for the Python
// services): ON iff OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set,
// OTEL_SDK_DISABLED is not true and OTEL_TRACES_EXPORTER is not none. OFF, the tracer
// provider is a no-op, no gRPC stats handler or database wrapper is added and nothing is
// exported. ON: the resource from OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES (default
// service.name svc-fulfillment; read from the service's environment as every other setting),
// the sampler OTEL_TRACES_SAMPLER/_ARG name (read from the service's environment too, and
// refused in one line when unknown or out of range, as pasar_kit.telemetry refuses it), a
// batch span processor, OTLP over gRPC or http/protobuf (OTEL_EXPORTER_OTLP_[TRACES_]PROTOCOL;
// the exporter reads its endpoint, headers and timeout itself), W3C tracecontext and baggage.
package telemetry

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"

	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc/filters"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
	"google.golang.org/grpc"

	"github.com/pasar-shop/pasar/svc-fulfillment/internal/config"
	"github.com/pasar-shop/pasar/svc-fulfillment/internal/logging"
)

// The attribute names every Pasar component sets (issue 16's shared names).
const (
	RequestIDAttribute     = "pasar.request_id"
	OrderIDAttribute       = "pasar.order.id"
	FulfillmentIDAttribute = "pasar.fulfillment.id"
)

const (
	grpcProtocol         = "grpc"
	httpProtobufProtocol = "http/protobuf"
	instrumentationName  = "github.com/pasar-shop/pasar/svc-fulfillment"
)

// samplerNames are the names OTEL_TRACES_SAMPLER may take, as pasar_kit.telemetry accepts
// them (the SDK's own names; the ratio ones take OTEL_TRACES_SAMPLER_ARG).
var samplerNames = []string{"always_on", "always_off", "traceidratio", "parentbased_always_on",
	"parentbased_always_off", "parentbased_traceidratio"}

// defaultSampler is the SDK's default, as in every Pasar component.
const defaultSampler = "parentbased_always_on"

// Tracing is the process's tracing: on with a real provider, or off.
type Tracing struct {
	provider trace.TracerProvider
	tracer   trace.Tracer
	on       bool
	shutdown func(context.Context) error
	// resource is what the spans are exported under (nil when off).
	resource *resource.Resource
}

// Off is tracing off: a no-op provider, no handlers, nothing exported.
func Off() *Tracing {
	provider := noop.NewTracerProvider()
	return &Tracing{provider: provider, tracer: provider.Tracer(instrumentationName),
		shutdown: func(context.Context) error { return nil }}
}

// With is tracing on through provider (the tests' in-memory recorder); the caller shuts
// the provider down.
func With(provider trace.TracerProvider) *Tracing {
	return &Tracing{provider: provider, tracer: provider.Tracer(instrumentationName), on: true,
		shutdown: func(context.Context) error { return nil }}
}

// Wanted is the ON rule, read from env.
func Wanted(env config.Env) bool {
	if env.String("OTEL_EXPORTER_OTLP_ENDPOINT", "") == "" && env.String("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "") == "" {
		return false
	}
	if strings.EqualFold(strings.TrimSpace(env.String("OTEL_SDK_DISABLED", "false")), "true") {
		return false
	}
	return !strings.EqualFold(strings.TrimSpace(env.String("OTEL_TRACES_EXPORTER", "otlp")), "none")
}

// Configure is the tracing env asks for, with serviceName as the default service.name;
// ON, it is also the process's global provider and propagator, says so on log ("tracing
// on"), and the SDK's own failures (a collector that does not answer, a full queue) become
// warning lines of log, as the Python SDK's do, not plain text on stderr. A sampler or
// protocol the SDK would not understand is a *config.Error naming its variable, as in the
// Python services.
func Configure(ctx context.Context, env config.Env, serviceName string, log *slog.Logger) (*Tracing, error) {
	if !Wanted(env) {
		return Off(), nil
	}
	sampler, err := newSampler(env)
	if err != nil {
		return nil, err
	}
	res, err := resource.New(ctx, resource.WithTelemetrySDK(), resource.WithAttributes(resourceAttributes(env, serviceName)...))
	if err != nil {
		return nil, &config.Error{Message: fmt.Sprintf("OTEL_RESOURCE_ATTRIBUTES %v", err)}
	}
	// Last: nothing refused after it, so its connection is never left open.
	exporter, err := newExporter(ctx, env)
	if err != nil {
		return nil, err
	}
	provider := sdktrace.NewTracerProvider(sdktrace.WithResource(res), sdktrace.WithSampler(sampler), sdktrace.WithBatcher(exporter))
	log = logging.Named(log, "pasar.telemetry")
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) { log.Warn("tracing failed", "error", err.Error()) }))
	otel.SetTracerProvider(provider)
	otel.SetTextMapPropagator(Propagator())
	tracing := &Tracing{provider: provider, tracer: provider.Tracer(instrumentationName), on: true,
		shutdown: provider.Shutdown, resource: res}
	log.Info("tracing on", "service_name", tracing.ServiceName())
	return tracing, nil
}

// Propagator is W3C tracecontext and baggage, as every Pasar component propagates.
func Propagator() propagation.TextMapPropagator {
	return propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})
}

// resourceAttributes are service.name (OTEL_SERVICE_NAME, else OTEL_RESOURCE_ATTRIBUTES',
// else serviceName) and the other OTEL_RESOURCE_ATTRIBUTES pairs, values percent-decoded as
// the specification says (and pasar_kit.telemetry reads them).
func resourceAttributes(env config.Env, serviceName string) []attribute.KeyValue {
	values := map[string]string{string(semconv.ServiceNameKey): serviceName}
	for _, pair := range strings.Split(env.String("OTEL_RESOURCE_ATTRIBUTES", ""), ",") {
		key, value, ok := strings.Cut(pair, "=")
		if key = strings.TrimSpace(key); !ok || key == "" {
			continue
		}
		if decoded, err := url.PathUnescape(strings.TrimSpace(value)); err == nil {
			values[key] = decoded
		}
	}
	if name := env.String("OTEL_SERVICE_NAME", ""); name != "" {
		values[string(semconv.ServiceNameKey)] = name
	}
	attributes := make([]attribute.KeyValue, 0, len(values))
	for key, value := range values {
		attributes = append(attributes, attribute.String(key, value))
	}
	return attributes
}

// newSampler is the sampler OTEL_TRACES_SAMPLER names, read from env (the SDK would read
// the process's environment, and fall back to its default on an unreadable ratio where
// the Python services refuse to start).
func newSampler(env config.Env) (sdktrace.Sampler, error) {
	name := strings.ToLower(strings.TrimSpace(env.String("OTEL_TRACES_SAMPLER", defaultSampler)))
	ratio := 1.0
	if strings.HasSuffix(name, "traceidratio") {
		var err error
		if ratio, err = env.Number("OTEL_TRACES_SAMPLER_ARG", 1, 0); err != nil {
			return nil, err
		}
		if ratio > 1 {
			return nil, &config.Error{Message: fmt.Sprintf("OTEL_TRACES_SAMPLER_ARG must be between 0 and 1, not %s",
				strconv.FormatFloat(ratio, 'g', -1, 64))}
		}
	}
	switch name {
	case "always_on":
		return sdktrace.AlwaysSample(), nil
	case "always_off":
		return sdktrace.NeverSample(), nil
	case "traceidratio":
		return sdktrace.TraceIDRatioBased(ratio), nil
	case "parentbased_always_on":
		return sdktrace.ParentBased(sdktrace.AlwaysSample()), nil
	case "parentbased_always_off":
		return sdktrace.ParentBased(sdktrace.NeverSample()), nil
	case "parentbased_traceidratio":
		return sdktrace.ParentBased(sdktrace.TraceIDRatioBased(ratio)), nil
	}
	return nil, &config.Error{Message: fmt.Sprintf("OTEL_TRACES_SAMPLER must be one of %s, not '%s'", strings.Join(samplerNames, ", "), name)}
}

func newExporter(ctx context.Context, env config.Env) (sdktrace.SpanExporter, error) {
	variable, protocol := "", grpcProtocol
	for _, name := range []string{"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"} {
		if value := env.String(name, ""); value != "" {
			variable, protocol = name, strings.ToLower(strings.TrimSpace(value))
			break
		}
	}
	var exporter sdktrace.SpanExporter
	var err error
	switch protocol {
	case grpcProtocol:
		exporter, err = otlptracegrpc.New(ctx)
	case httpProtobufProtocol:
		exporter, err = otlptracehttp.New(ctx)
	default:
		return nil, &config.Error{Message: fmt.Sprintf("%s must be '%s' or '%s', not '%s'", variable, grpcProtocol, httpProtobufProtocol, protocol)}
	}
	if err != nil {
		return nil, fmt.Errorf("the OTLP trace exporter (%s): %w", protocol, err)
	}
	return exporter, nil
}

// On tells whether spans are made and exported.
func (t *Tracing) On() bool { return t.on }

// ServiceName is the service.name the spans are exported under ("" when off).
func (t *Tracing) ServiceName() string { return t.resourceValue(string(semconv.ServiceNameKey)) }

func (t *Tracing) resourceValue(key string) string {
	if t.resource == nil {
		return ""
	}
	if value, ok := t.resource.Set().Value(attribute.Key(key)); ok {
		return value.Emit()
	}
	return ""
}

// Provider is the tracer provider (a no-op one when off).
func (t *Tracing) Provider() trace.TracerProvider { return t.provider }

// Shutdown exports the spans still queued; call it once, at the end of the process.
func (t *Tracing) Shutdown(ctx context.Context) error { return t.shutdown(ctx) }

// untraced are the calls no one needs a trace of: the orchestrator's health probes and
// grpcurl's reflection questions.
var untraced = filters.None(filters.HealthCheck(), filters.ServicePrefix("grpc.reflection."))

// ServerOptions is the OpenTelemetry server handler (none when off). A stats handler
// wraps every interceptor: the call pipeline runs inside the server span.
func (t *Tracing) ServerOptions() []grpc.ServerOption {
	if !t.on {
		return nil
	}
	return []grpc.ServerOption{grpc.StatsHandler(otelgrpc.NewServerHandler(
		otelgrpc.WithTracerProvider(t.provider), otelgrpc.WithPropagators(Propagator()), otelgrpc.WithFilter(untraced)))}
}

// DialOptions is the OpenTelemetry client handler (none when off): a span per call, and
// the W3C traceparent in its metadata.
func (t *Tracing) DialOptions() []grpc.DialOption {
	if !t.on {
		return nil
	}
	return []grpc.DialOption{grpc.WithStatsHandler(otelgrpc.NewClientHandler(
		otelgrpc.WithTracerProvider(t.provider), otelgrpc.WithPropagators(Propagator())))}
}
