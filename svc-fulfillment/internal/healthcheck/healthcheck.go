// Package healthcheck is the container's health check (`svc-fulfillment health`), as
// docker/python/healthcheck.py is the Python images': the service is healthy when its own
// grpc.health.v1 answer is SERVING (NOT_SERVING while its database does not answer). A
// static image has no shell or Python to run another program, so the binary checks itself.
// When the server speaks TLS the check does too, as its callers do, asking for the name
// its certificate carries ("fulfillment").
package healthcheck

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/pasar-shop/pasar/svc-fulfillment/internal/config"
)

// ServerName is the name the service's certificate carries (docker/certs/make-dev-certs).
const ServerName = "fulfillment"

const timeout = 3 * time.Second

// Check is nil when the service listening on PASAR_LISTEN_ADDRESS's port says SERVING.
func Check(ctx context.Context, env config.Env) error {
	address := env.String("PASAR_LISTEN_ADDRESS", config.DefaultListenAddress)
	port := address[strings.LastIndex(address, ":")+1:]
	creds, err := transport(env)
	if err != nil {
		return err
	}
	conn, err := grpc.NewClient("127.0.0.1:"+port, grpc.WithTransportCredentials(creds))
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	response, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
	if err != nil {
		return err
	}
	if response.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		return fmt.Errorf("%s", response.GetStatus())
	}
	return nil
}

func transport(env config.Env) (credentials.TransportCredentials, error) {
	if env.String("PASAR_TLS_CERT", "") == "" {
		return insecure.NewCredentials(), nil
	}
	ca := env.String("PASAR_TLS_CA", "")
	if ca == "" {
		return nil, &config.Error{Message: "PASAR_TLS_CA is required for the health check of a TLS server"}
	}
	text, err := os.ReadFile(ca)
	if err != nil {
		return nil, &config.Error{Message: fmt.Sprintf("PASAR_TLS_CA must name a readable file: %v", err)}
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(text)
	tlsConfig := &tls.Config{RootCAs: pool, ServerName: ServerName, MinVersion: tls.VersionTLS12}
	if cert, key := env.String("PASAR_TLS_CLIENT_CERT", ""), env.String("PASAR_TLS_CLIENT_KEY", ""); cert != "" && key != "" {
		pair, err := tls.LoadX509KeyPair(cert, key)
		if err != nil {
			return nil, &config.Error{Message: fmt.Sprintf("PASAR_TLS_CLIENT_CERT and PASAR_TLS_CLIENT_KEY: %v", err)}
		}
		tlsConfig.Certificates = []tls.Certificate{pair}
	}
	return credentials.NewTLS(tlsConfig), nil
}
