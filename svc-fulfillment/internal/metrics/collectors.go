package metrics

import (
	"database/sql"
	"log/slog"
	"time"

	fulfillmentv1 "github.com/pasar-shop/pasar/contracts/go/pasar/fulfillment/v1"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/pasar-shop/pasar/svc-fulfillment/internal/database"
	"github.com/pasar-shop/pasar/svc-fulfillment/internal/store"
)

var (
	connectionsDesc = prometheus.NewDesc("pasar_db_connections",
		"Database connections of the service's pool, in use or idle.", []string{"state"}, nil)
	connectionsMaxDesc = prometheus.NewDesc("pasar_db_connections_max",
		"The most connections the service's pool opens.", nil, nil)
	newestDesc = prometheus.NewDesc("pasar_event_stream_newest_sequence",
		"The newest event's sequence on the stream this service writes (a consumer's lag is this minus its cursor).",
		[]string{"stream"}, nil)
	outboxRowsDesc = prometheus.NewDesc("pasar_outbox_rows",
		"Rows waiting in an outbox or work queue of the service's database.", []string{"outbox"}, nil)
	outboxAgeDesc = prometheus.NewDesc("pasar_outbox_oldest_age_seconds",
		"How long the oldest waiting row has waited (0 when none waits).", []string{"outbox"}, nil)
)

// poolCollector reads database/sql's pool statistics at each scrape.
type poolCollector struct{ db *database.DB }

func newPoolCollector(db *database.DB) *poolCollector { return &poolCollector{db: db} }

func (c *poolCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- connectionsDesc
	ch <- connectionsMaxDesc
}

func (c *poolCollector) Collect(ch chan<- prometheus.Metric) {
	stats := c.db.Stats()
	ch <- prometheus.MustNewConstMetric(connectionsDesc, prometheus.GaugeValue, float64(stats.InUse), "in_use")
	ch <- prometheus.MustNewConstMetric(connectionsDesc, prometheus.GaugeValue, float64(stats.Idle), "idle")
	ch <- prometheus.MustNewConstMetric(connectionsMaxDesc, prometheus.GaugeValue, float64(stats.MaxOpenConnections))
}

// backlogCollector reads the database at each scrape. A database that does not answer
// yields none of its figures (logged at debug): a scrape never fails the service, and a
// missing series is what an absent() alert looks for.
type backlogCollector struct {
	db  *database.DB
	log *slog.Logger
	now func() time.Time
}

func newBacklogCollector(db *database.DB, log *slog.Logger) *backlogCollector {
	return &backlogCollector{db: db, log: log, now: time.Now}
}

func (c *backlogCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- newestDesc
	ch <- outboxRowsDesc
	ch <- outboxAgeDesc
}

func (c *backlogCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := scrapeContext()
	defer cancel()
	var newest int64
	if err := c.db.QueryRowContext(ctx, "SELECT COALESCE(MAX(sequence), 0) FROM fulfillment_events").Scan(&newest); err != nil {
		c.log.Debug("metrics: the database did not answer", "error", err.Error())
		return
	}
	ch <- prometheus.MustNewConstMetric(newestDesc, prometheus.GaugeValue, float64(newest), store.EventStream)
	pending := int32(fulfillmentv1.FulfillmentState_FULFILLMENT_STATE_PENDING)
	queues := []struct {
		outbox, query string
		args          []any
	}{
		// Waiting since created; accepted ones since the biller took them (their last change).
		{store.BillerRequests, "SELECT COUNT(*), MIN(create_time) FROM fulfillments WHERE request_due = 1", nil},
		{store.BillerAnswers, "SELECT COUNT(*), MIN(update_time) FROM fulfillments WHERE state = ? AND request_due = 0", []any{pending}},
	}
	for _, q := range queues {
		var rows int64
		var oldest sql.NullInt64
		if err := c.db.QueryRowContext(ctx, q.query, q.args...).Scan(&rows, &oldest); err != nil {
			c.log.Debug("metrics: the database did not answer", "outbox", q.outbox, "error", err.Error())
			return
		}
		age := 0.0
		if rows > 0 && oldest.Valid {
			age = max(0, c.now().Sub(time.UnixMicro(oldest.Int64)).Seconds())
		}
		ch <- prometheus.MustNewConstMetric(outboxRowsDesc, prometheus.GaugeValue, float64(rows), q.outbox)
		ch <- prometheus.MustNewConstMetric(outboxAgeDesc, prometheus.GaugeValue, age, q.outbox)
	}
}
