package logging

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
)

// textHandler writes the readable line of the Python services' text format (for
// development, scripts/run): level, the request id's first 8 characters, the message,
// then the fields as key=value.
type textHandler struct {
	out   io.Writer
	mu    *sync.Mutex
	level slog.Level
	attrs []slog.Attr
}

func newTextHandler(out io.Writer, level slog.Level) *textHandler {
	return &textHandler{out: out, mu: &sync.Mutex{}, level: level}
}

func (h *textHandler) Enabled(_ context.Context, level slog.Level) bool { return level >= h.level }

func (h *textHandler) Handle(ctx context.Context, record slog.Record) error {
	level := strings.ToLower(record.Level.String())
	if record.Level == slog.LevelWarn {
		level = "warning"
	}
	id := RequestID(ctx)
	if len(id) > 8 {
		id = id[:8]
	}
	if id == "" {
		id = "-"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%-7s %-8s %s", level, id, record.Message)
	var fields []string
	add := func(a slog.Attr) bool {
		if a.Key != "service" && a.Key != "logger" && a.Key != "request_id" {
			fields = append(fields, fmt.Sprintf("%s=%v", a.Key, a.Value.Any()))
		}
		return true
	}
	for _, a := range h.attrs {
		add(a)
	}
	record.Attrs(add)
	if len(fields) > 0 {
		b.WriteString("  " + strings.Join(fields, " "))
	}
	b.WriteByte('\n')
	h.mu.Lock()
	defer h.mu.Unlock()
	_, err := io.WriteString(h.out, b.String())
	return err
}

func (h *textHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &textHandler{out: h.out, mu: h.mu, level: h.level, attrs: append(append([]slog.Attr{}, h.attrs...), attrs...)}
}

// WithGroup is not used by the service: groups are flattened.
func (h *textHandler) WithGroup(string) slog.Handler { return h }
