package metrics

import (
	"context"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Listener serves a registry at /metrics on an HTTP listener of its own, apart from the
// gRPC port (PASAR_METRICS_ADDRESS; a deployment scrapes it, nobody else reaches it).
type Listener struct {
	server   *http.Server
	listener net.Listener
	done     chan struct{}
}

// Serve listens on address (port 0: a free one) and serves registry in the background.
func Serve(address string, registry *prometheus.Registry) (*Listener, error) {
	listener, err := net.Listen("tcp", address)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(registry, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError}))
	l := &Listener{listener: listener, done: make(chan struct{}),
		server: &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}}
	go func() {
		defer close(l.done)
		_ = l.server.Serve(listener) // ends with http.ErrServerClosed at Close
	}()
	return l, nil
}

// Address is the address it listens on, with the real port (127.0.0.1:43117).
func (l *Listener) Address() string { return l.listener.Addr().String() }

// Close stops it, letting a scrape in progress finish for a moment.
func (l *Listener) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = l.server.Shutdown(ctx)
	<-l.done
}
