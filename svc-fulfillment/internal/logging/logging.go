// Package logging sets up log/slog the way the Python services log (pasar_kit.logs): one
// JSON object per line on stdout with the fields time, level, service, logger, message
// and request_id (and trace_id, span_id inside a recording span), so one query reads every
// service's logs alike.
package logging

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"time"

	"go.opentelemetry.io/otel/trace"
)

// RequestIDMetadata is the gRPC metadata key that carries a call's request id.
const RequestIDMetadata = "x-request-id"

type requestIDKey struct{}

// WithRequestID is ctx carrying the id of the request it serves.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestID is the request id ctx carries, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// New is the service's root logger writing to out; level is debug, info, warning or
// error, format json or text.
func New(out io.Writer, service, level, format string) *slog.Logger {
	options := &slog.HandlerOptions{Level: parseLevel(level), ReplaceAttr: replaceAttr}
	if format == "text" {
		return slog.New(newTextHandler(out, options.Level.Level())).With("service", service)
	}
	return slog.New(requestIDHandler{slog.NewJSONHandler(out, options)}).With("service", service)
}

// Named is logger with the logger field Python's records carry (their logger name).
func Named(logger *slog.Logger, name string) *slog.Logger { return logger.With("logger", name) }

func parseLevel(level string) slog.Level {
	switch strings.ToLower(level) {
	case "debug":
		return slog.LevelDebug
	case "warning", "warn":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	}
	return slog.LevelInfo
}

// replaceAttr renames slog's keys to the Python services' names and formats time and level
// as they do (UTC with milliseconds; lower-case level names, "warning" for warnings).
func replaceAttr(groups []string, a slog.Attr) slog.Attr {
	if len(groups) > 0 {
		return a
	}
	switch a.Key {
	case slog.TimeKey:
		return slog.String("time", a.Value.Time().UTC().Format("2006-01-02T15:04:05.000+00:00"))
	case slog.LevelKey:
		level, _ := a.Value.Any().(slog.Level)
		name := strings.ToLower(level.String())
		if level == slog.LevelWarn {
			name = "warning"
		}
		return slog.String("level", name)
	case slog.MessageKey:
		return slog.Attr{Key: "message", Value: a.Value}
	}
	return a
}

// requestIDHandler adds the request id of the record's context, when it has one, and the
// trace and span ids (lower-case hex) when the line is written inside a recording span, so
// that a log line leads to its trace and back.
type requestIDHandler struct{ slog.Handler }

func (h requestIDHandler) Handle(ctx context.Context, record slog.Record) error {
	if id := RequestID(ctx); id != "" {
		record.AddAttrs(slog.String("request_id", id))
	}
	if span := trace.SpanFromContext(ctx); span.IsRecording() {
		if sc := span.SpanContext(); sc.IsValid() {
			record.AddAttrs(slog.String("trace_id", sc.TraceID().String()), slog.String("span_id", sc.SpanID().String()))
		}
	}
	return h.Handler.Handle(ctx, record)
}

func (h requestIDHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return requestIDHandler{h.Handler.WithAttrs(attrs)}
}

func (h requestIDHandler) WithGroup(name string) slog.Handler {
	return requestIDHandler{h.Handler.WithGroup(name)}
}

// MaskDestination is destination as logs may show it: each value but its last three
// characters replaced by '*' ("*********890"), as pasar_kit.destinations.mask_destination
// does. Destinations are personal data.
func MaskDestination(destination map[string]string) map[string]string {
	masked := make(map[string]string, len(destination))
	for key, value := range destination {
		masked[key] = MaskValue(value)
	}
	return masked
}

// MaskValue keeps the last three characters of value.
func MaskValue(value string) string {
	runes := []rune(value)
	if len(runes) <= 3 {
		return strings.Repeat("*", len(runes))
	}
	return strings.Repeat("*", len(runes)-3) + string(runes[len(runes)-3:])
}

// Since is a duration in milliseconds with two decimals, as the Python services' duration_ms.
func Since(started time.Time) float64 {
	return float64(time.Since(started).Microseconds()/10) / 100
}
