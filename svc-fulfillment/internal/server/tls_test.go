package server_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	commonv1 "github.com/pasar-shop/pasar/contracts/go/pasar/common/v1"
	fulfillmentv1 "github.com/pasar-shop/pasar/contracts/go/pasar/fulfillment/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
)

// authority is a test CA that issues certificates into dir.
type authority struct {
	dir  string
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

func newAuthority(t *testing.T) *authority {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	template := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true,
		KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, template, template, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	a := &authority{dir: t.TempDir(), cert: cert, key: key}
	a.write(t, "ca.crt", "CERTIFICATE", der)
	return a
}

func (a *authority) write(t *testing.T, name, kind string, der []byte) string {
	t.Helper()
	path := filepath.Join(a.dir, name)
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// issue writes name.crt and name.key for a certificate with the DNS names given.
func (a *authority) issue(t *testing.T, name string, dnsNames ...string) (string, string) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	template := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
		DNSNames: dnsNames, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, template, a.cert, &key.PublicKey, a.key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalPKCS8PrivateKey(key)
	return a.write(t, name+".crt", "CERTIFICATE", der), a.write(t, name+".key", "PRIVATE KEY", keyDER)
}

func (a *authority) client(t *testing.T, port int, certFile, keyFile string) fulfillmentv1.FulfillmentServiceClient {
	t.Helper()
	pool := x509.NewCertPool()
	pool.AddCert(a.cert)
	tlsConfig := &tls.Config{RootCAs: pool, ServerName: "fulfillment", MinVersion: tls.VersionTLS12}
	if certFile != "" {
		pair, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			t.Fatal(err)
		}
		tlsConfig.Certificates = []tls.Certificate{pair}
	}
	conn, err := grpc.NewClient("127.0.0.1:"+strconv.Itoa(port), grpc.WithTransportCredentials(credentials.NewTLS(tlsConfig)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return fulfillmentv1.NewFulfillmentServiceClient(conn)
}

func startTLS(t *testing.T, values map[string]string) int {
	t.Helper()
	_, _, port := serve(t, values)
	return port
}

func TestMutualTLSNamesTheCallerByItsCertificate(t *testing.T) {
	ca := newAuthority(t)
	serverCert, serverKey := ca.issue(t, "fulfillment", "fulfillment")
	port := startTLS(t, map[string]string{"PASAR_TLS_CERT": serverCert, "PASAR_TLS_KEY": serverKey,
		"PASAR_TLS_CLIENT_CA": filepath.Join(ca.dir, "ca.crt")})
	get := &fulfillmentv1.GetFulfillmentRequest{Id: "ful_00000000000000000000000000000000"}

	orderCert, orderKey := ca.issue(t, "order-client", "order")
	response, err := ca.client(t, port, orderCert, orderKey).GetFulfillment(context.Background(), get)
	failed(t, response, err).is(t, codes.NotFound, fulfillmentv1.ErrorReason_FULFILLMENT_NOT_FOUND) // let in

	gatewayCert, gatewayKey := ca.issue(t, "gateway-client", "gateway")
	gateway := ca.client(t, port, gatewayCert, gatewayKey)
	response, err = gateway.GetFulfillment(context.Background(), get)
	failed(t, response, err).is(t, codes.PermissionDenied, commonv1.ErrorReason_CALLER_NOT_ALLOWED, "caller", "gateway")

	commonName, commonNameKey := ca.issue(t, "order") // no DNS names: the common name says who
	response, err = ca.client(t, port, commonName, commonNameKey).GetFulfillment(context.Background(), get)
	failed(t, response, err).is(t, codes.NotFound, fulfillmentv1.ErrorReason_FULFILLMENT_NOT_FOUND)

	response, err = ca.client(t, port, "", "").GetFulfillment(context.Background(), get)
	if code := failed(t, response, err).code; code != codes.Unavailable {
		t.Fatalf("a client without a certificate cannot connect: %v", code)
	}
}

func TestTLSWithoutClientCertificatesStillAsksForTheCallerToken(t *testing.T) {
	ca := newAuthority(t)
	serverCert, serverKey := ca.issue(t, "fulfillment", "fulfillment")
	port := startTLS(t, map[string]string{"PASAR_TLS_CERT": serverCert, "PASAR_TLS_KEY": serverKey})
	client := ca.client(t, port, "", "")
	response, err := client.GetFulfillment(context.Background(), &fulfillmentv1.GetFulfillmentRequest{Id: "ful_00000000000000000000000000000000"})
	failed(t, response, err).is(t, codes.Unauthenticated, commonv1.ErrorReason_CALLER_CREDENTIAL_MISSING)
}
