// Package metrics is the service's Prometheus registry, with the names every Pasar service
// uses (issue 16's shared names), so one dashboard serves the Python services and this one:
// the RED metrics of go-grpc-middleware's prometheus provider (grpc_server_started_total,
// grpc_server_handled_total, grpc_server_handling_seconds), the database pool
// (pasar_db_connections{state}, pasar_db_connections_max), and figures read from the
// database at scrape time: the event stream's newest sequence and the fulfillments waiting
// for the biller (pasar_outbox_rows, pasar_outbox_oldest_age_seconds).
package metrics

import (
	"context"
	"log/slog"
	"time"

	grpcprom "github.com/grpc-ecosystem/go-grpc-middleware/providers/prometheus"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"google.golang.org/grpc"

	"github.com/pasar-shop/pasar/svc-fulfillment/internal/database"
)

// Metrics is the registry and the gRPC server's RED metrics.
type Metrics struct {
	Registry *prometheus.Registry
	server   *grpcprom.ServerMetrics
}

// New is the registry of a service over db; log hears (at debug) of scrapes the database
// did not answer.
func New(db *database.DB, log *slog.Logger) *Metrics {
	registry := prometheus.NewRegistry()
	server := grpcprom.NewServerMetrics(grpcprom.WithServerHandlingTimeHistogram())
	registry.MustRegister(server, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		newPoolCollector(db), newBacklogCollector(db, log))
	return &Metrics{Registry: registry, server: server}
}

// UnaryInterceptor counts and times unary calls; put it first, so it sees the status the
// caller gets.
func (m *Metrics) UnaryInterceptor() grpc.UnaryServerInterceptor {
	return m.server.UnaryServerInterceptor()
}

// StreamInterceptor counts and times streaming calls.
func (m *Metrics) StreamInterceptor() grpc.StreamServerInterceptor {
	return m.server.StreamServerInterceptor()
}

// Initialize makes every method's series exist at zero, so a dashboard's rate() has a
// start and an alert sees the first failure.
func (m *Metrics) Initialize(server *grpc.Server) { m.server.InitializeMetrics(server) }

// scrapeTimeout bounds the database reads of one scrape.
const scrapeTimeout = 2 * time.Second

func scrapeContext() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), scrapeTimeout)
}
