package config

import (
	"bytes"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// The service's defaults, as issue 14's shape and CONTRIBUTING's configuration table say.
const (
	DefaultListenAddress  = "127.0.0.1:50054"
	DefaultDatabaseURL    = "sqlite:///var/fulfillment.db"
	DefaultProductAddress = "127.0.0.1:50051"
	// DefaultMetricsAddress is loopback on a free port the start-up log names; a
	// deployment that scrapes sets 0.0.0.0:9464.
	DefaultMetricsAddress = "127.0.0.1:0"
	// SandboxBiller delivers fake goods: in production only with DemoFakeDeliveries.
	SandboxBiller = "sandbox"
	// DemoFakeDeliveries is the flag a demo shop sets, in words nobody can misread in a
	// deployment file, to run the sandbox biller in production.
	DemoFakeDeliveries              = "PASAR_DEMO_FAKE_DELIVERIES"
	DevelopmentBillerWebhookSecret  = "dev-biller-webhook-secret"
	internalCallersVariable         = "PASAR_INTERNAL_CALLERS"
	defaultInternalCallers          = "order"
	defaultShutdownGraceSeconds     = 10.0
	defaultHealthProbeSeconds       = 2.0
	defaultSandboxDelaySeconds      = 0.2
	defaultSandboxLateSeconds       = 30.0
	defaultFulfillmentEventPollSecs = 0.5
)

// Billers are the billers this build can talk to; a real aggregator's adapter is added
// beside the sandbox.
var Billers = []string{SandboxBiller}

var callerName = regexp.MustCompile(`^[a-z][a-z0-9-]{0,30}$`)

// ServerTLS is the server's certificate and, for mutual TLS, the CA its clients' certificates
// must be signed by.
type ServerTLS struct{ CertFile, KeyFile, ClientCAFile string }

// ClientTLS is how the service reaches svc-product over TLS.
type ClientTLS struct{ CAFile, CertFile, KeyFile string }

// Callers are who may call the internal methods and how they are recognised: by a
// caller token each (name -> secret), or by client certificate with mutual TLS.
type Callers struct {
	Accepted  []string
	Tokens    map[string]string
	MutualTLS bool
}

// Settings are how the service runs.
type Settings struct {
	Environment    string
	ListenAddress  string
	DatabaseURL    string
	ProductAddress string
	Callers        Callers
	// Biller is the name of the biller fulfillments are handed to.
	Biller        string
	WebhookSecret string
	// Demo is a production shop whose deliveries the sandbox fakes (it says so at start).
	Demo          bool
	SandboxDelay  time.Duration
	SandboxLate   time.Duration
	EventPoll     time.Duration
	LogLevel      string
	LogFormat     string
	ShutdownGrace time.Duration
	HealthProbe   time.Duration
	ServerTLS     *ServerTLS
	ClientTLS     *ClientTLS
	// MetricsAddress is where Prometheus metrics are served; "" when off.
	MetricsAddress string
}

// DatabaseURLFrom reads DATABASE_URL alone, so that migrate works whatever else is set wrong.
func DatabaseURLFrom(env Env) string { return env.String("DATABASE_URL", DefaultDatabaseURL) }

// Load reads and checks every setting; the first bad one is an *Error naming its variable.
func Load(env Env) (*Settings, error) {
	environment, err := env.Environment()
	if err != nil {
		return nil, err
	}
	production := environment == Production
	s := &Settings{Environment: environment, DatabaseURL: DatabaseURLFrom(env)}
	if s.ServerTLS, err = serverTLS(env); err != nil {
		return nil, err
	}
	if s.ListenAddress, err = listenAddress(env, production); err != nil {
		return nil, err
	}
	if s.ProductAddress, err = peerAddress(env, "PASAR_PRODUCT_ADDRESS", DefaultProductAddress); err != nil {
		return nil, err
	}
	if s.ClientTLS, err = clientTLS(env); err != nil {
		return nil, err
	}
	if s.MetricsAddress, err = metricsAddress(env); err != nil {
		return nil, err
	}
	if s.LogLevel, err = choice(env, "PASAR_LOG_LEVEL", "info", "debug", "info", "warning", "error"); err != nil {
		return nil, err
	}
	if s.LogFormat, err = choice(env, "PASAR_LOG_FORMAT", "json", "json", "text"); err != nil {
		return nil, err
	}
	if s.Biller, s.Demo, err = biller(env, production); err != nil {
		return nil, err
	}
	if s.WebhookSecret, err = env.Secret("PASAR_BILLER_WEBHOOK_SECRET", DevelopmentBillerWebhookSecret); err != nil {
		return nil, err
	}
	durations := []struct {
		target            *time.Duration
		name              string
		fallback, minimum float64
	}{
		{&s.ShutdownGrace, "PASAR_SHUTDOWN_GRACE_SECONDS", defaultShutdownGraceSeconds, 0},
		{&s.HealthProbe, "PASAR_HEALTH_PROBE_SECONDS", defaultHealthProbeSeconds, 0.1},
		{&s.SandboxDelay, "PASAR_SANDBOX_BILLER_DELAY_SECONDS", defaultSandboxDelaySeconds, 0},
		{&s.SandboxLate, "PASAR_SANDBOX_BILLER_LATE_SECONDS", defaultSandboxLateSeconds, 0},
		{&s.EventPoll, "PASAR_FULFILLMENT_EVENT_POLL_SECONDS", defaultFulfillmentEventPollSecs, 0.01},
	}
	for _, d := range durations {
		seconds, err := env.Number(d.name, d.fallback, d.minimum)
		if err != nil {
			return nil, err
		}
		*d.target = time.Duration(seconds * float64(time.Second))
	}
	mutualTLS := s.ServerTLS != nil && s.ServerTLS.ClientCAFile != ""
	if s.Callers, err = callers(env, mutualTLS); err != nil {
		return nil, err
	}
	return s, nil
}

func biller(env Env, production bool) (string, bool, error) {
	fallback := SandboxBiller
	if production {
		fallback = ""
	}
	name := env.String("PASAR_BILLER", fallback)
	if name == "" {
		return "", false, errorf("PASAR_BILLER is required")
	}
	known := false
	for _, b := range Billers {
		known = known || b == name
	}
	if !known {
		return "", false, errorf("PASAR_BILLER must be one of %s, not %s", strings.Join(Billers, ", "), quote(name))
	}
	fake, err := env.Flag(DemoFakeDeliveries, false)
	if err != nil {
		return "", false, err
	}
	if name == SandboxBiller && production && !fake {
		return "", false, errorf("PASAR_BILLER must not be %s when PASAR_ENV is %s:"+
			" it delivers fake tokens and vouchers for every paid order (a demo shop sets %s=true)",
			quote(SandboxBiller), quote(Production), DemoFakeDeliveries)
	}
	return name, name == SandboxBiller && production, nil
}

// callers reads PASAR_INTERNAL_CALLERS and, without mutual TLS, each caller's
// PASAR_<NAME>_CALLER_TOKEN (development default dev-<name>-caller-token).
func callers(env Env, mutualTLS bool) (Callers, error) {
	c := Callers{Tokens: map[string]string{}, MutualTLS: mutualTLS}
	for _, name := range strings.Split(env.String(internalCallersVariable, defaultInternalCallers), ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		if !callerName.MatchString(name) {
			return c, errorf("%s must list caller names such as 'order', not %s", internalCallersVariable, quote(name))
		}
		c.Accepted = append(c.Accepted, name)
		if mutualTLS {
			continue
		}
		variable := "PASAR_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_")) + "_CALLER_TOKEN"
		token, err := env.Secret(variable, "dev-"+name+"-caller-token")
		if err != nil {
			return c, err
		}
		c.Tokens[name] = token
	}
	return c, nil
}

func choice(env Env, name, fallback string, allowed ...string) (string, error) {
	value := strings.ToLower(env.String(name, fallback))
	for _, a := range allowed {
		if value == a {
			return value, nil
		}
	}
	return "", errorf("%s must be one of %s, not %s", name, strings.Join(allowed, ", "), quote(value))
}

// listenAddress is PASAR_LISTEN_ADDRESS, checked as pasar_kit.listen checks it: port 0
// (the system picks one, as tests do) is refused in production, where nobody could find it.
func listenAddress(env Env, production bool) (string, error) {
	value := env.String("PASAR_LISTEN_ADDRESS", DefaultListenAddress)
	port, err := parseHostPort(value)
	if err != nil {
		return "", errorf("PASAR_LISTEN_ADDRESS %s", err.Error())
	}
	if port == 0 && production {
		return "", errorf("PASAR_LISTEN_ADDRESS must name a port from 1 to 65535 in production, not %s", quote(value))
	}
	return value, nil
}

// metricsAddress is PASAR_METRICS_ADDRESS as pasar_kit reads it: host:port, or "" when it
// says off (or none). Port 0 (a free port the log names) is accepted in production too, as
// the Python services accept it: such metrics are merely not scraped.
func metricsAddress(env Env) (string, error) {
	value := strings.TrimSpace(env.String("PASAR_METRICS_ADDRESS", DefaultMetricsAddress))
	if strings.EqualFold(value, "off") || strings.EqualFold(value, "none") {
		return "", nil
	}
	if _, err := parseHostPort(value); err != nil {
		return "", errorf("PASAR_METRICS_ADDRESS must be host:port (port 0 picks a free one) or 'off', not %s", quote(value))
	}
	return value, nil
}

func peerAddress(env Env, name, fallback string) (string, error) {
	value := env.String(name, fallback)
	// A gRPC target naming its resolver, as compose and Kubernetes give every caller
	// (dns:///product:50051 lists every pod of a headless Service), is grpc-go's to read.
	for _, scheme := range []string{"dns:", "ipv4:", "ipv6:", "unix:"} {
		if strings.HasPrefix(value, scheme) && len(value) > len(scheme) {
			return value, nil
		}
	}
	if _, err := parseHostPort(value); err != nil {
		return "", errorf("%s %s", name, err.Error())
	}
	return value, nil
}

// parseHostPort checks host:port as pasar_kit.listen.ListenAddress.parse does (an IPv6
// host in brackets, a port from 0 to 65535) and returns the port.
func parseHostPort(text string) (int, error) {
	i := strings.LastIndex(text, ":")
	if i <= 0 {
		return 0, errorf("must be host:port (as 127.0.0.1:50051 or [::]:50051), not %s", quote(text))
	}
	host, port := text[:i], text[i+1:]
	if strings.HasPrefix(host, "[") != strings.HasSuffix(host, "]") || (strings.Contains(host, ":") && !strings.HasPrefix(host, "[")) {
		return 0, errorf("must write an IPv6 host in brackets ([::1]:50051), not %s", quote(text))
	}
	number, err := strconv.Atoi(port)
	if err != nil || port == "" || strings.TrimLeft(port, "0123456789") != "" || number > 65535 {
		return 0, errorf("must end with a port from 1 to 65535, not %s", quote(text))
	}
	return number, nil
}

// serverTLS is TLS when PASAR_TLS_CERT and PASAR_TLS_KEY are set, mutual with
// PASAR_TLS_CLIENT_CA; half a configuration is an error, never plain text.
func serverTLS(env Env) (*ServerTLS, error) {
	cert, key, ca := env.String("PASAR_TLS_CERT", ""), env.String("PASAR_TLS_KEY", ""), env.String("PASAR_TLS_CLIENT_CA", "")
	if cert == "" && key == "" && ca == "" {
		return nil, nil
	}
	if cert == "" || key == "" {
		given := "PASAR_TLS_CLIENT_CA"
		if cert != "" {
			given = "PASAR_TLS_CERT"
		} else if key != "" {
			given = "PASAR_TLS_KEY"
		}
		var missing []string
		if cert == "" {
			missing = append(missing, "PASAR_TLS_CERT")
		}
		if key == "" {
			missing = append(missing, "PASAR_TLS_KEY")
		}
		return nil, errorf("%s must be set as well when %s is set", strings.Join(missing, " and "), given)
	}
	for _, f := range [][2]string{{"PASAR_TLS_CERT", cert}, {"PASAR_TLS_KEY", key}, {"PASAR_TLS_CLIENT_CA", ca}} {
		if err := readablePEM(f[0], f[1]); err != nil {
			return nil, err
		}
	}
	return &ServerTLS{CertFile: cert, KeyFile: key, ClientCAFile: ca}, nil
}

// clientTLS is TLS to svc-product when PASAR_TLS_CA is set, with this service's
// certificate when PASAR_TLS_CLIENT_CERT and PASAR_TLS_CLIENT_KEY are.
func clientTLS(env Env) (*ClientTLS, error) {
	ca, cert, key := env.String("PASAR_TLS_CA", ""), env.String("PASAR_TLS_CLIENT_CERT", ""), env.String("PASAR_TLS_CLIENT_KEY", "")
	switch {
	case ca == "" && cert == "" && key == "":
		return nil, nil
	case ca == "":
		return nil, errorf("PASAR_TLS_CA must be set as well when a client certificate is set")
	case cert != "" && key == "":
		return nil, errorf("PASAR_TLS_CLIENT_KEY must be set as well when PASAR_TLS_CLIENT_CERT is set")
	case key != "" && cert == "":
		return nil, errorf("PASAR_TLS_CLIENT_CERT must be set as well when PASAR_TLS_CLIENT_KEY is set")
	}
	for _, f := range [][2]string{{"PASAR_TLS_CA", ca}, {"PASAR_TLS_CLIENT_CERT", cert}, {"PASAR_TLS_CLIENT_KEY", key}} {
		if err := readablePEM(f[0], f[1]); err != nil {
			return nil, err
		}
	}
	return &ClientTLS{CAFile: ca, CertFile: cert, KeyFile: key}, nil
}

// readablePEM checks what gRPC would only refuse later, and less clearly.
func readablePEM(name, path string) error {
	if path == "" {
		return nil
	}
	text, err := os.ReadFile(path)
	if err != nil {
		return errorf("%s must name a readable file, not %s (%v)", name, quote(path), err)
	}
	if !bytes.Contains(text, []byte("-----BEGIN ")) {
		return errorf("%s must name a PEM file, and %s has no -----BEGIN line", name, quote(path))
	}
	return nil
}
