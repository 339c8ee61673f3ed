package server_test

import (
	"net/http"
	"testing"
	"time"

	fulfillmentv1 "github.com/pasar-shop/pasar/contracts/go/pasar/fulfillment/v1"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// scrape reads the service's metrics over HTTP, as Prometheus does.
func scrape(t *testing.T, address string) map[string]*dto.MetricFamily {
	t.Helper()
	response, err := http.Get("http://" + address + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer response.Body.Close()
	if response.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %s", response.Status)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(response.Body)
	if err != nil {
		t.Fatal(err)
	}
	return families
}

// sample is the value of the family's series with labels (name, value, ...); ok false
// when it has none.
func sample(families map[string]*dto.MetricFamily, name string, labels ...string) (float64, bool) {
	family, ok := families[name]
	if !ok {
		return 0, false
	}
	for _, m := range family.GetMetric() {
		have := map[string]string{}
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		matches := true
		for i := 0; i+1 < len(labels); i += 2 {
			matches = matches && have[labels[i]] == labels[i+1]
		}
		if !matches {
			continue
		}
		switch family.GetType() {
		case dto.MetricType_COUNTER:
			return m.GetCounter().GetValue(), true
		case dto.MetricType_GAUGE:
			return m.GetGauge().GetValue(), true
		case dto.MetricType_HISTOGRAM:
			return float64(m.GetHistogram().GetSampleCount()), true
		}
	}
	return 0, false
}

func TestMetricsAreScrapedOverHTTP(t *testing.T) {
	h := start(t) // PASAR_METRICS_ADDRESS unset: 127.0.0.1 on a free port
	address := h.server.MetricsAddress()
	if address == "" {
		t.Fatal("no metrics listener by default")
	}
	created, err := h.public.CreateFulfillment(h.asOrder, createRequest("ord-metrics", "14123450009")) // the answer comes in an hour
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.public.CreateFulfillment(h.asOrder, createRequest("", "14123456789")); err == nil {
		t.Fatal("an invalid request was accepted")
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		got, err := h.public.GetFulfillment(h.asOrder, &fulfillmentv1.GetFulfillmentRequest{Id: created.GetFulfillment().GetId()})
		if err == nil && got.GetFulfillment().GetBillerReference() != "" {
			break // the biller took it: now it waits for the answer
		}
		if time.Now().After(deadline) {
			t.Fatal("the biller was never asked")
		}
		time.Sleep(20 * time.Millisecond)
	}

	families := scrape(t, address)
	create := []string{"grpc_service", "pasar.fulfillment.v1.FulfillmentService", "grpc_method", "CreateFulfillment", "grpc_type", "unary"}
	cases := []struct {
		name   string
		metric string
		labels []string
		want   float64
	}{
		{"a call started", "grpc_server_started_total", create, 2},
		{"a call handled OK", "grpc_server_handled_total", append(create, "grpc_code", "OK"), 1},
		{"a call refused", "grpc_server_handled_total", append(create, "grpc_code", "InvalidArgument"), 1},
		{"both timed", "grpc_server_handling_seconds", create, 2},
		{"a method not called yet has its series", "grpc_server_started_total",
			[]string{"grpc_method", "WatchFulfillmentEvents", "grpc_type", "server_stream"}, 0},
		{"the pool's size", "pasar_db_connections_max", nil, 8},
		{"the stream's newest event", "pasar_event_stream_newest_sequence", []string{"stream", "fulfillment-events"}, 1},
		{"no request waits for the biller", "pasar_outbox_rows", []string{"outbox", "biller-requests"}, 0},
		{"so none is old", "pasar_outbox_oldest_age_seconds", []string{"outbox", "biller-requests"}, 0},
		{"one fulfillment waits for the biller's answer", "pasar_outbox_rows", []string{"outbox", "biller-answers"}, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, ok := sample(families, c.metric, c.labels...)
			if !ok || got != c.want {
				t.Fatalf("%s%v = %v (present %v), want %v", c.metric, c.labels, got, ok, c.want)
			}
		})
	}
	for _, state := range []string{"in_use", "idle"} {
		if _, ok := sample(families, "pasar_db_connections", "state", state); !ok {
			t.Errorf("no pasar_db_connections{state=%q}", state)
		}
	}
	if age, ok := sample(families, "pasar_outbox_oldest_age_seconds", "outbox", "biller-answers"); !ok || age < 0 || age > 60 {
		t.Errorf("the waiting answer's age %v (%v)", age, ok)
	}
}

func TestMetricsCanBeTurnedOff(t *testing.T) {
	for _, value := range []string{"off", "none", "OFF"} {
		t.Run(value, func(t *testing.T) {
			srv, _, _ := serve(t, map[string]string{"PASAR_METRICS_ADDRESS": value})
			if address := srv.MetricsAddress(); address != "" {
				t.Fatalf("metrics served on %s", address)
			}
		})
	}
}
