package metrics

import (
	"io"
	"log/slog"
	"testing"

	dto "github.com/prometheus/client_model/go"

	"github.com/pasar-shop/pasar/svc-fulfillment/internal/testdb"
)

func gathered(t *testing.T, m *Metrics) map[string]*dto.MetricFamily {
	t.Helper()
	families, err := m.Registry.Gather()
	if err != nil {
		t.Fatalf("a scrape failed: %v", err)
	}
	byName := map[string]*dto.MetricFamily{}
	for _, f := range families {
		byName[f.GetName()] = f
	}
	return byName
}

// A database that does not answer leaves out the figures read from it, and only those:
// the scrape itself succeeds.
func TestTheDatabasesFiguresAreLeftOutWhenItDoesNotAnswer(t *testing.T) {
	for _, kind := range testdb.Kinds() {
		cases := []struct {
			name        string
			closed      bool
			wantBacklog bool
		}{
			{"answering", false, true},
			{"closed", true, false},
		}
		for _, c := range cases {
			t.Run(kind+"/"+c.name, func(t *testing.T) {
				db := testdb.Open(t, kind)
				m := New(db, slog.New(slog.NewTextHandler(io.Discard, nil)))
				if c.closed {
					db.Close()
				}
				families := gathered(t, m)
				for _, name := range []string{"pasar_event_stream_newest_sequence", "pasar_outbox_rows", "pasar_outbox_oldest_age_seconds"} {
					if _, ok := families[name]; ok != c.wantBacklog {
						t.Errorf("%s present %v, want %v", name, ok, c.wantBacklog)
					}
				}
				for _, name := range []string{"pasar_db_connections", "pasar_db_connections_max", "go_goroutines"} {
					if _, ok := families[name]; !ok {
						t.Errorf("no %s", name)
					}
				}
				if outboxes := families["pasar_outbox_rows"].GetMetric(); c.wantBacklog && len(outboxes) != 2 {
					t.Errorf("outboxes %v", outboxes)
				}
			})
		}
	}
}
