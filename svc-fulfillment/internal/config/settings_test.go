package config

import (
	"strings"
	"testing"
	"time"
)

const goodSecret = "3f9a1c0d7e5b2a8f6c4d1e0b9a7f5c3e2d1b0a9f8e7d6c5b"

// production is a production environment that Load accepts; tests change one variable.
func production() map[string]string {
	return map[string]string{
		"PASAR_ENV":                   Production,
		"PASAR_LISTEN_ADDRESS":        "0.0.0.0:50054",
		"PASAR_ORDER_CALLER_TOKEN":    goodSecret,
		"PASAR_BILLER_WEBHOOK_SECRET": goodSecret + "x",
		"PASAR_BILLER":                SandboxBiller,
		DemoFakeDeliveries:            "true",
	}
}

func TestDevelopmentDefaults(t *testing.T) {
	s, err := Load(EnvFrom(map[string]string{}))
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"listen", s.ListenAddress, DefaultListenAddress},
		{"database", s.DatabaseURL, DefaultDatabaseURL},
		{"product", s.ProductAddress, DefaultProductAddress},
		{"biller", s.Biller, SandboxBiller},
		{"secret", s.WebhookSecret, DevelopmentBillerWebhookSecret},
		{"order token", s.Callers.Tokens["order"], "dev-order-caller-token"},
		{"callers", strings.Join(s.Callers.Accepted, ","), "order"},
		{"delay", s.SandboxDelay, 200 * time.Millisecond},
		{"late", s.SandboxLate, 30 * time.Second},
		{"poll", s.EventPoll, 500 * time.Millisecond},
		{"grace", s.ShutdownGrace, 10 * time.Second},
		{"probe", s.HealthProbe, 2 * time.Second},
		{"demo", s.Demo, false},
		{"metrics", s.MetricsAddress, "127.0.0.1:0"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestBadValuesNameTheirVariable(t *testing.T) {
	cases := []struct {
		variable, value, says string
	}{
		{"PASAR_ENV", "staging", "PASAR_ENV must be 'development' or 'production', not 'staging'"},
		{"PASAR_LISTEN_ADDRESS", "50054", "PASAR_LISTEN_ADDRESS must be host:port"},
		{"PASAR_LISTEN_ADDRESS", "127.0.0.1:99999", "PASAR_LISTEN_ADDRESS must end with a port from 1 to 65535"},
		{"PASAR_LISTEN_ADDRESS", "::1:50054", "PASAR_LISTEN_ADDRESS must write an IPv6 host in brackets"},
		{"PASAR_PRODUCT_ADDRESS", "nowhere", "PASAR_PRODUCT_ADDRESS must be host:port"},
		{"PASAR_PRODUCT_ADDRESS", "dns:", "PASAR_PRODUCT_ADDRESS must end with a port"},
		{"PASAR_SHUTDOWN_GRACE_SECONDS", "soon", "PASAR_SHUTDOWN_GRACE_SECONDS must be a number, not 'soon'"},
		{"PASAR_HEALTH_PROBE_SECONDS", "0.01", "PASAR_HEALTH_PROBE_SECONDS must be at least 0.1"},
		{"PASAR_SANDBOX_BILLER_DELAY_SECONDS", "-1", "PASAR_SANDBOX_BILLER_DELAY_SECONDS must be at least 0"},
		{"PASAR_SANDBOX_BILLER_LATE_SECONDS", "x", "PASAR_SANDBOX_BILLER_LATE_SECONDS must be a number"},
		{"PASAR_FULFILLMENT_EVENT_POLL_SECONDS", "0", "PASAR_FULFILLMENT_EVENT_POLL_SECONDS must be at least 0.01"},
		{"PASAR_BILLER", "acme", "PASAR_BILLER must be one of sandbox, not 'acme'"},
		{"PASAR_INTERNAL_CALLERS", "order,Bad Name", "PASAR_INTERNAL_CALLERS must list caller names"},
		{"PASAR_LOG_LEVEL", "loud", "PASAR_LOG_LEVEL must be one of"},
		{"PASAR_LOG_FORMAT", "xml", "PASAR_LOG_FORMAT must be one of json, text"},
		{DemoFakeDeliveries, "maybe", DemoFakeDeliveries + " must be true or false"},
		{"PASAR_TLS_CERT", "/nonexistent.pem", "PASAR_TLS_KEY must be set as well when PASAR_TLS_CERT is set"},
		{"PASAR_TLS_CLIENT_CERT", "/nonexistent.pem", "PASAR_TLS_CA must be set as well"},
		{"PASAR_METRICS_ADDRESS", "9464", "PASAR_METRICS_ADDRESS must be host:port (port 0 picks a free one) or 'off', not '9464'"},
		{"PASAR_METRICS_ADDRESS", "0.0.0.0:70000", "PASAR_METRICS_ADDRESS must be host:port"},
	}
	for _, c := range cases {
		t.Run(c.variable+"="+c.value, func(t *testing.T) {
			_, err := Load(EnvFrom(map[string]string{c.variable: c.value}))
			if err == nil || !strings.Contains(err.Error(), c.says) {
				t.Fatalf("got %v, want an error saying %q", err, c.says)
			}
			if _, ok := err.(*Error); !ok {
				t.Fatalf("got %T, want *config.Error", err)
			}
		})
	}
}

func TestProductionAcceptsGoodSettings(t *testing.T) {
	s, err := Load(EnvFrom(production()))
	if err != nil {
		t.Fatal(err)
	}
	if !s.Demo {
		t.Error("a production sandbox is a demo, and says so")
	}
}

func TestProductionRefuses(t *testing.T) {
	cases := []struct {
		name, variable, value, says string
	}{
		{"missing caller token", "PASAR_ORDER_CALLER_TOKEN", "", "PASAR_ORDER_CALLER_TOKEN is required when PASAR_ENV is 'production'"},
		{"development caller token", "PASAR_ORDER_CALLER_TOKEN", "dev-order-caller-token", "PASAR_ORDER_CALLER_TOKEN must not be a development default"},
		{"another component's default", "PASAR_ORDER_CALLER_TOKEN", "dev-admin-token", "must not be a development default"},
		{"short caller token", "PASAR_ORDER_CALLER_TOKEN", strings.Repeat("s", MinimumSecretBytes-1), "must be at least 32 bytes"},
		{"missing webhook secret", "PASAR_BILLER_WEBHOOK_SECRET", "", "PASAR_BILLER_WEBHOOK_SECRET is required"},
		{"development webhook secret", "PASAR_BILLER_WEBHOOK_SECRET", DevelopmentBillerWebhookSecret, "PASAR_BILLER_WEBHOOK_SECRET must not be a development default"},
		{"port 0", "PASAR_LISTEN_ADDRESS", "127.0.0.1:0", "PASAR_LISTEN_ADDRESS must name a port from 1 to 65535 in production"},
		{"sandbox without the demo flag", DemoFakeDeliveries, "", "PASAR_BILLER must not be 'sandbox' when PASAR_ENV is 'production'"},
		{"no biller", "PASAR_BILLER", "", "PASAR_BILLER is required"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env := production()
			env[c.variable] = c.value
			_, err := Load(EnvFrom(env))
			if err == nil || !strings.Contains(err.Error(), c.says) {
				t.Fatalf("got %v, want an error saying %q", err, c.says)
			}
		})
	}
}

func TestProductAddressMayBeAGRPCTarget(t *testing.T) {
	// As compose and Kubernetes name a headless Service to every caller (docker/).
	for _, target := range []string{"dns:///product:50051", "ipv4:127.0.0.1:50051,127.0.0.1:50061"} {
		values := production()
		values["PASAR_PRODUCT_ADDRESS"] = target
		s, err := Load(EnvFrom(values))
		if err != nil {
			t.Fatalf("%s: %v", target, err)
		}
		if s.ProductAddress != target {
			t.Errorf("ProductAddress = %q, want %q", s.ProductAddress, target)
		}
	}
}

func TestDevelopmentAcceptsPortZeroAndDefaults(t *testing.T) {
	s, err := Load(EnvFrom(map[string]string{"PASAR_LISTEN_ADDRESS": "127.0.0.1:0", "PASAR_INTERNAL_CALLERS": "order, ops"}))
	if err != nil {
		t.Fatal(err)
	}
	if s.Callers.Tokens["ops"] != "dev-ops-caller-token" {
		t.Errorf("each caller's development token is dev-<name>-caller-token, got %q", s.Callers.Tokens["ops"])
	}
}

func TestMetricsAddress(t *testing.T) {
	cases := []struct {
		name, value, want string
	}{
		{"unset: loopback on a free port", "", DefaultMetricsAddress},
		{"a deployment's", "0.0.0.0:9464", "0.0.0.0:9464"},
		{"IPv6", "[::]:9464", "[::]:9464"},
		{"off", "off", ""},
		{"none", "None", ""},
		{"port 0 in production too, as the Python services accept it", "127.0.0.1:0", "127.0.0.1:0"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env := production()
			env["PASAR_METRICS_ADDRESS"] = c.value
			s, err := Load(EnvFrom(env))
			if err != nil {
				t.Fatal(err)
			}
			if s.MetricsAddress != c.want {
				t.Fatalf("MetricsAddress = %q, want %q", s.MetricsAddress, c.want)
			}
		})
	}
}
