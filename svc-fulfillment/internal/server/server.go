// Package server assembles the service's gRPC server the way pasar_kit.server does for
// the Python services: OpenTelemetry's server handler outermost (when tracing is on), the
// RED metrics, the call pipeline, the FulfillmentService, the standard health
// service reporting the database's real state (probed every few seconds), reflection,
// optional TLS or mutual TLS, and a graceful stop that lets in-flight calls finish within
// a grace period while streams end cleanly and background workers stop; Prometheus metrics
// on a listener of their own (PASAR_METRICS_ADDRESS).
package server

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sync"
	"syscall"
	"time"

	fulfillmentv1 "github.com/pasar-shop/pasar/contracts/go/pasar/fulfillment/v1"
	productv1 "github.com/pasar-shop/pasar/contracts/go/pasar/product/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/reflection"

	"github.com/pasar-shop/pasar/svc-fulfillment/internal/biller/sandbox"
	"github.com/pasar-shop/pasar/svc-fulfillment/internal/callers"
	"github.com/pasar-shop/pasar/svc-fulfillment/internal/config"
	"github.com/pasar-shop/pasar/svc-fulfillment/internal/database"
	"github.com/pasar-shop/pasar/svc-fulfillment/internal/logging"
	"github.com/pasar-shop/pasar/svc-fulfillment/internal/metrics"
	"github.com/pasar-shop/pasar/svc-fulfillment/internal/pipeline"
	"github.com/pasar-shop/pasar/svc-fulfillment/internal/service"
	"github.com/pasar-shop/pasar/svc-fulfillment/internal/store"
	"github.com/pasar-shop/pasar/svc-fulfillment/internal/telemetry"
)

// ServiceName is the FulfillmentService's full name, as health reports it.
var ServiceName = string(fulfillmentv1.File_pasar_fulfillment_v1_fulfillment_service_proto.Services().ByName("FulfillmentService").FullName())

// ListenError is an address the server cannot listen on; the message names it and why.
type ListenError struct{ Message string }

func (e *ListenError) Error() string { return e.Message }

// Server is the running service.
type Server struct {
	settings  *config.Settings
	db        *database.DB
	log       *slog.Logger
	grpc      *grpc.Server
	health    *health.Server
	listener  net.Listener
	products  *grpc.ClientConn
	tracing   *telemetry.Tracing
	metrics   *metrics.Metrics // nil when PASAR_METRICS_ADDRESS is off
	scrapes   *metrics.Listener
	stopping  chan struct{}
	cancel    context.CancelFunc
	workers   sync.WaitGroup
	stopOnce  sync.Once
	serveDone chan error
	// started is closed by Start: the background workers begin then.
	started chan struct{}
	// serving is what health reports: set by Start, then by the probe alone.
	serving bool
}

// New builds the server, traced by tracing (telemetry.Off() for none); nothing listens
// until Start.
func New(settings *config.Settings, db *database.DB, log *slog.Logger, tracing *telemetry.Tracing) (*Server, error) {
	s := &Server{settings: settings, db: db, log: log, tracing: tracing, stopping: make(chan struct{}),
		serveDone: make(chan error, 1), started: make(chan struct{})}
	// Everything that can fail comes before the client of svc-product, which would leak.
	descriptor := fulfillmentv1.File_pasar_fulfillment_v1_fulfillment_service_proto.Services().ByName("FulfillmentService")
	gate := callers.NewGate(callers.InternalMethods(descriptor), settings.Callers.Accepted, settings.Callers.Tokens, settings.Callers.MutualTLS)
	calls, err := pipeline.New(gate, logging.Named(log, "pasar.rpc"))
	if err != nil {
		return nil, err
	}
	unary := []grpc.UnaryServerInterceptor{calls.Unary}
	stream := []grpc.StreamServerInterceptor{calls.Stream}
	if settings.MetricsAddress != "" {
		// First: the RED metrics count the status the pipeline gives the caller.
		s.metrics = metrics.New(db, logging.Named(log, "pasar.metrics"))
		unary = append([]grpc.UnaryServerInterceptor{s.metrics.UnaryInterceptor()}, unary...)
		stream = append([]grpc.StreamServerInterceptor{s.metrics.StreamInterceptor()}, stream...)
	}
	// The OpenTelemetry handler is a stats handler: it wraps every interceptor, so the
	// pipeline runs (and logs) inside the server span.
	options := append(tracing.ServerOptions(),
		grpc.ChainUnaryInterceptor(unary...),
		grpc.ChainStreamInterceptor(stream...),
		// Keep idle connections from load balancers and NATs alive, and notice dead peers.
		grpc.KeepaliveParams(keepalive.ServerParameters{Time: 30 * time.Second, Timeout: 10 * time.Second}),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 10 * time.Second, PermitWithoutStream: true}),
		grpc.MaxRecvMsgSize(4*1024*1024),
	)
	if settings.ServerTLS != nil {
		creds, err := serverCredentials(settings.ServerTLS)
		if err != nil {
			return nil, err
		}
		options = append(options, grpc.Creds(creds))
	}
	productCredentials, err := clientCredentials(settings.ClientTLS)
	if err != nil {
		return nil, err
	}
	// round_robin, as the Python services' channels use: every product instance a name
	// resolves to (a headless Service, an ipv4: list) takes a share of the look-ups, and
	// one that is down is skipped.
	dialOptions := append(tracing.DialOptions(), grpc.WithTransportCredentials(productCredentials),
		grpc.WithDefaultServiceConfig(`{"loadBalancingConfig": [{"round_robin": {}}]}`),
		grpc.WithUnaryInterceptor(forwardRequestID))
	s.products, err = grpc.NewClient(settings.ProductAddress, dialOptions...)
	if err != nil {
		return nil, &config.Error{Message: fmt.Sprintf("PASAR_PRODUCT_ADDRESS %v", err)}
	}
	var svc *service.Service
	events := service.NewBroadcaster()
	st := store.New(db, func() { svc.Written() })
	billerLog := logging.Named(log, "pasar.biller")
	bill := sandbox.New(db, settings.WebhookSecret, settings.SandboxDelay, settings.SandboxLate,
		func(ctx context.Context, name string, payload []byte, signature string) error {
			_, err := svc.Notify(ctx, name, payload, signature)
			return err
		}, billerLog)
	svc = service.New(service.Options{Store: st, Biller: bill, Products: productv1.NewProductServiceClient(s.products),
		Events: events, EventPoll: settings.EventPoll, Stopping: s.stopping, Log: logging.Named(log, "pasar.fulfillment"),
		Tracing: tracing})

	s.grpc = grpc.NewServer(options...)
	fulfillmentv1.RegisterFulfillmentServiceServer(s.grpc, svc)
	s.health = health.NewServer()
	healthpb.RegisterHealthServer(s.grpc, s.health)
	reflection.Register(s.grpc)
	if s.metrics != nil {
		s.metrics.Initialize(s.grpc)
	}

	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	s.background(ctx, svc, bill)
	return s, nil
}

// background starts the workers; they wait for Start (or for a stop before it).
func (s *Server) background(ctx context.Context, svc *service.Service, bill *sandbox.Sandbox) {
	for _, work := range []func(context.Context){svc.RunRequests, bill.Run, s.probeHealth} {
		s.workers.Add(1)
		go func() {
			defer s.workers.Done()
			select {
			case <-ctx.Done():
				return
			case <-s.started:
			}
			work(ctx)
		}()
	}
}

// Start listens, reports health from the database's first answer, and serves in the
// background; it returns the bound port.
func (s *Server) Start() (int, error) {
	listener, err := net.Listen("tcp", s.settings.ListenAddress)
	if err != nil {
		return 0, listenError(s.settings.ListenAddress, err)
	}
	s.listener = listener
	port := listener.Addr().(*net.TCPAddr).Port
	fields := []any{"address", s.settings.ListenAddress, "port", port, "services", []string{ServiceName}}
	if s.metrics != nil {
		if s.scrapes, err = metrics.Serve(s.settings.MetricsAddress, s.metrics.Registry); err != nil {
			_ = listener.Close()
			return 0, &ListenError{"PASAR_METRICS_ADDRESS: " + listenError(s.settings.MetricsAddress, err).Message}
		}
		fields = append(fields, "metrics_address", s.scrapes.Address())
	}
	s.serving = s.databaseAnswers()
	s.setHealth(s.serving)
	go func() { s.serveDone <- s.grpc.Serve(listener) }()
	close(s.started)
	s.log.Info("serving", fields...)
	if s.settings.Demo {
		s.log.Warn("the sandbox biller delivers fake goods in production: this shop is a demo", "biller", s.settings.Biller)
	}
	return port, nil
}

// listenError says in one line why address cannot be listened on.
func listenError(address string, err error) *ListenError {
	var opError *net.OpError
	if errors.As(err, &opError) {
		var syscallError *os.SyscallError
		if errors.As(opError.Err, &syscallError) && errors.Is(syscallError.Err, syscall.EADDRINUSE) {
			return &ListenError{fmt.Sprintf("cannot listen on %s: the address is already in use", address)}
		}
		return &ListenError{fmt.Sprintf("cannot listen on %s: %v", address, opError.Err)}
	}
	return &ListenError{fmt.Sprintf("cannot listen on %s: %v", address, err)}
}

// Stop stops accepting calls, ends the event streams, lets in-flight calls finish within
// the grace period (then cuts them), and stops the background workers.
func (s *Server) Stop() {
	s.stopOnce.Do(func() {
		close(s.stopping)
		s.health.Shutdown()
		done := make(chan struct{})
		go func() {
			s.grpc.GracefulStop()
			close(done)
		}()
		timer := time.NewTimer(s.settings.ShutdownGrace)
		select {
		case <-done:
			timer.Stop()
		case <-timer.C:
			s.grpc.Stop()
			<-done
		}
		s.cancel()
		s.workers.Wait()
		_ = s.products.Close()
		if s.scrapes != nil {
			s.scrapes.Close()
		}
		s.log.Info("stopped")
	})
}

// MetricsAddress is where the metrics are served, with the real port; "" when off or
// before Start.
func (s *Server) MetricsAddress() string {
	if s.scrapes == nil {
		return ""
	}
	return s.scrapes.Address()
}

// Wait blocks until the server stops serving.
func (s *Server) Wait() error { return <-s.serveDone }

func (s *Server) databaseAnswers() bool {
	ctx, cancel := context.WithTimeout(context.Background(), max(s.settings.HealthProbe, time.Second))
	defer cancel()
	return s.db.Ping(ctx) == nil
}

func (s *Server) setHealth(serving bool) {
	state := healthpb.HealthCheckResponse_NOT_SERVING
	if serving {
		state = healthpb.HealthCheckResponse_SERVING
	}
	s.health.SetServingStatus("", state)
	s.health.SetServingStatus(ServiceName, state)
}

// probeHealth changes health only when the database's answer does: each change is a
// message on every Health/Watch stream, which must hear of changes and nothing else. It
// compares with what Start reported (not with a first answer of its own, which would miss
// an outage that began between the two).
func (s *Server) probeHealth(ctx context.Context) {
	serving := s.serving
	ticker := time.NewTicker(s.settings.HealthProbe)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.stopping:
			return
		case <-ticker.C:
		}
		now := s.databaseAnswers()
		if now != serving {
			if now {
				s.log.Warn("database answers again")
			} else {
				s.log.Warn("database does not answer")
			}
			serving = now
			s.setHealth(now)
		}
	}
}

// forwardRequestID sends the current request id on to svc-product, so that one id
// follows a call through every service's logs.
func forwardRequestID(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	if id := logging.RequestID(ctx); id != "" {
		ctx = metadata.AppendToOutgoingContext(ctx, logging.RequestIDMetadata, id)
	}
	return invoker(ctx, method, req, reply, cc, opts...)
}

func serverCredentials(t *config.ServerTLS) (credentials.TransportCredentials, error) {
	certificate, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
	if err != nil {
		return nil, &config.Error{Message: fmt.Sprintf("PASAR_TLS_CERT and PASAR_TLS_KEY must be a certificate and its key: %v", err)}
	}
	tlsConfig := &tls.Config{Certificates: []tls.Certificate{certificate}, MinVersion: tls.VersionTLS12}
	if t.ClientCAFile != "" {
		pool, err := certPool("PASAR_TLS_CLIENT_CA", t.ClientCAFile)
		if err != nil {
			return nil, err
		}
		tlsConfig.ClientCAs = pool
		tlsConfig.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return credentials.NewTLS(tlsConfig), nil
}

func clientCredentials(t *config.ClientTLS) (credentials.TransportCredentials, error) {
	if t == nil {
		return insecure.NewCredentials(), nil
	}
	pool, err := certPool("PASAR_TLS_CA", t.CAFile)
	if err != nil {
		return nil, err
	}
	tlsConfig := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	if t.CertFile != "" {
		certificate, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
		if err != nil {
			return nil, &config.Error{Message: fmt.Sprintf("PASAR_TLS_CLIENT_CERT and PASAR_TLS_CLIENT_KEY must be a certificate and its key: %v", err)}
		}
		tlsConfig.Certificates = []tls.Certificate{certificate}
	}
	return credentials.NewTLS(tlsConfig), nil
}

func certPool(name, path string) (*x509.CertPool, error) {
	text, err := os.ReadFile(path)
	if err != nil {
		return nil, &config.Error{Message: fmt.Sprintf("%s must name a readable file, not '%s' (%v)", name, path, err)}
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(text) {
		return nil, &config.Error{Message: fmt.Sprintf("%s must name a PEM file of certificates, not '%s'", name, path)}
	}
	return pool, nil
}
