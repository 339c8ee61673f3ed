package server_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	commonv1 "github.com/pasar-shop/pasar/contracts/go/pasar/common/v1"
	fulfillmentv1 "github.com/pasar-shop/pasar/contracts/go/pasar/fulfillment/v1"
	productv1 "github.com/pasar-shop/pasar/contracts/go/pasar/product/v1"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/pasar-shop/pasar/svc-fulfillment/internal/biller"
	"github.com/pasar-shop/pasar/svc-fulfillment/internal/biller/sandbox"
	"github.com/pasar-shop/pasar/svc-fulfillment/internal/config"
	"github.com/pasar-shop/pasar/svc-fulfillment/internal/database"
	"github.com/pasar-shop/pasar/svc-fulfillment/internal/rpcerr"
	"github.com/pasar-shop/pasar/svc-fulfillment/internal/server"
	"github.com/pasar-shop/pasar/svc-fulfillment/internal/store"
	"github.com/pasar-shop/pasar/svc-fulfillment/internal/telemetry"
)

const (
	callerToken = "test-order-caller-token"
	secret      = "test-biller-webhook-secret"
)

// catalog is a svc-product that knows three products.
type catalog struct {
	productv1.UnimplementedProductServiceServer
}

var products = map[string]*productv1.Product{
	"token-pln": {Id: "token-pln", DeliveryKind: productv1.DeliveryKind_DELIVERY_KIND_ELECTRICITY_TOKEN,
		DestinationFields: []*productv1.DestinationField{{Name: "meter_number", LabelEn: "Meter number",
			Pattern: "[0-9]+", MinLength: 11, MaxLength: 12, Example: "14123456789", LookupSupported: true}}},
	"pulsa-telkomsel": {Id: "pulsa-telkomsel", DeliveryKind: productv1.DeliveryKind_DELIVERY_KIND_PHONE_CREDIT,
		DestinationFields: []*productv1.DestinationField{{Name: "phone_number", LabelEn: "Phone number",
			Pattern: "08[0-9]+", MinLength: 10, MaxLength: 13, Prefixes: []string{"0811", "0812", "0813"}, LookupSupported: true}}},
	"diamonds": {Id: "diamonds", DeliveryKind: productv1.DeliveryKind_DELIVERY_KIND_ACCOUNT_TOPUP,
		DestinationFields: []*productv1.DestinationField{
			{Name: "user_id", LabelEn: "User ID", Pattern: "[0-9]+", MinLength: 1, MaxLength: 12},
			{Name: "zone_id", LabelEn: "Zone ID", Pattern: "[0-9]+", MinLength: 4, MaxLength: 4}}},
}

func (catalog) GetProduct(_ context.Context, req *productv1.GetProductRequest) (*productv1.GetProductResponse, error) {
	if p, ok := products[req.GetId()]; ok {
		return &productv1.GetProductResponse{Product: p}, nil
	}
	return nil, rpcerr.New(codes.NotFound, productv1.ErrorReason_PRODUCT_NOT_FOUND, "no such product", "product_id", req.GetId()).Status().Err()
}

type harness struct {
	server  *server.Server
	catalog *grpc.Server
	public  fulfillmentv1.FulfillmentServiceClient
	conn    *grpc.ClientConn
	db      *database.DB
	asOrder context.Context
}

func start(t *testing.T) *harness {
	t.Helper()
	return startWith(t, telemetry.Off())
}

// startWith is start with tracing (its calls to the service are traced too, when it is on).
func startWith(t *testing.T, tracing *telemetry.Tracing) *harness {
	t.Helper()
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	catalogServer := grpc.NewServer(tracing.ServerOptions()...)
	productv1.RegisterProductServiceServer(catalogServer, catalog{})
	go func() { _ = catalogServer.Serve(listener) }()
	t.Cleanup(catalogServer.Stop)

	srv, db, port := serveWith(t, tracing, map[string]string{
		"PASAR_PRODUCT_ADDRESS":                listener.Addr().String(),
		"PASAR_ORDER_CALLER_TOKEN":             callerToken,
		"PASAR_BILLER_WEBHOOK_SECRET":          secret,
		"PASAR_SANDBOX_BILLER_DELAY_SECONDS":   "0.05",
		"PASAR_SANDBOX_BILLER_LATE_SECONDS":    "3600",
		"PASAR_SHUTDOWN_GRACE_SECONDS":         "3",
		"PASAR_HEALTH_PROBE_SECONDS":           "0.2",
		"PASAR_FULFILLMENT_EVENT_POLL_SECONDS": "0.1",
	})
	conn, err := grpc.NewClient("127.0.0.1:"+strconv.Itoa(port),
		append(tracing.DialOptions(), grpc.WithTransportCredentials(insecure.NewCredentials()))...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &harness{
		server: srv, catalog: catalogServer, public: fulfillmentv1.NewFulfillmentServiceClient(conn), conn: conn, db: db,
		asOrder: metadata.AppendToOutgoingContext(context.Background(), "x-pasar-caller-token", callerToken),
	}
}

// serve starts the service with settings values on a fresh SQLite database of the test
// and a free loopback port, stopped at the test's end; it returns the port.
func serve(t *testing.T, values map[string]string) (*server.Server, *database.DB, int) {
	t.Helper()
	return serveWith(t, telemetry.Off(), values)
}

func serveWith(t *testing.T, tracing *telemetry.Tracing, values map[string]string) (*server.Server, *database.DB, int) {
	t.Helper()
	url := "sqlite:///" + filepath.Join(t.TempDir(), "fulfillment.db")
	values["PASAR_LISTEN_ADDRESS"] = "127.0.0.1:0"
	values["DATABASE_URL"] = url
	settings, err := config.Load(config.EnvFrom(values))
	if err != nil {
		t.Fatal(err)
	}
	var options []database.Option
	if tracing.On() {
		options = append(options, database.WithTracing(tracing.Provider()))
	}
	db, err := database.Open(url, options...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(settings, db, slog.New(slog.NewTextHandler(io.Discard, nil)), tracing)
	if err != nil {
		t.Fatal(err)
	}
	port, err := srv.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	return srv, db, port
}

// failure is a failed call's code, ErrorInfo and BadRequest field paths.
type failure struct {
	code   codes.Code
	info   *errdetails.ErrorInfo
	fields []string
}

func failed(t *testing.T, response any, err error) failure {
	t.Helper()
	if err == nil {
		t.Fatalf("the call succeeded: %v", response)
	}
	st := status.Convert(err)
	f := failure{code: st.Code()}
	for _, detail := range st.Details() {
		switch d := detail.(type) {
		case *errdetails.ErrorInfo:
			f.info = d
		case *errdetails.BadRequest:
			for _, v := range d.GetFieldViolations() {
				f.fields = append(f.fields, v.GetField())
			}
		}
	}
	return f
}

func (f failure) is(t *testing.T, code codes.Code, reason rpcerr.Reason, metadata ...string) {
	t.Helper()
	if f.code != code {
		t.Fatalf("code %v, want %v", f.code, code)
	}
	if reason == nil {
		return
	}
	if f.info.GetReason() != reason.String() || f.info.GetDomain() != rpcerr.Domain {
		t.Fatalf("ErrorInfo %v, want reason %s", f.info, reason)
	}
	for i := 0; i+1 < len(metadata); i += 2 {
		if got := f.info.GetMetadata()[metadata[i]]; got != metadata[i+1] {
			t.Fatalf("metadata %s = %q, want %q", metadata[i], got, metadata[i+1])
		}
	}
}

func createRequest(orderID, meter string) *fulfillmentv1.CreateFulfillmentRequest {
	return &fulfillmentv1.CreateFulfillmentRequest{
		OrderId: orderID, PackageId: "token-pln-20k", ProductId: "token-pln",
		DeliveryKind: productv1.DeliveryKind_DELIVERY_KIND_ELECTRICITY_TOKEN, Quantity: 1,
		Amount:      &commonv1.Money{CurrencyCode: "IDR", Amount: 20000},
		Destination: map[string]string{"meter_number": meter},
	}
}

func TestHealthReportsServing(t *testing.T) {
	h := start(t)
	health := healthpb.NewHealthClient(h.conn)
	for _, name := range []string{"", server.ServiceName} {
		response, err := health.Check(context.Background(), &healthpb.HealthCheckRequest{Service: name})
		if err != nil || response.GetStatus() != healthpb.HealthCheckResponse_SERVING {
			t.Fatalf("%q: %v %v", name, response, err)
		}
	}
}

func TestHealthFollowsTheDatabase(t *testing.T) {
	h := start(t)
	health := healthpb.NewHealthClient(h.conn)
	h.db.Close() // the database stops answering
	deadline := time.Now().Add(5 * time.Second)
	for {
		response, err := health.Check(context.Background(), &healthpb.HealthCheckRequest{Service: server.ServiceName})
		if err == nil && response.GetStatus() == healthpb.HealthCheckResponse_NOT_SERVING {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("health still says %v %v", response, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	response, err := h.public.GetFulfillment(h.asOrder, &fulfillmentv1.GetFulfillmentRequest{Id: "ful_00000000000000000000000000000000"})
	failed(t, response, err).is(t, codes.Internal, nil) // a closed pool is a bug, not an outage
}

func TestInternalMethodsNeedTheCallersToken(t *testing.T) {
	h := start(t)
	get := &fulfillmentv1.GetFulfillmentRequest{Id: "ful_00000000000000000000000000000000"}
	response, err := h.public.GetFulfillment(context.Background(), get)
	failed(t, response, err).is(t, codes.Unauthenticated, commonv1.ErrorReason_CALLER_CREDENTIAL_MISSING)
	wrong := metadata.AppendToOutgoingContext(context.Background(), "x-pasar-caller-token", "dev-order-caller-token")
	response, err = h.public.GetFulfillment(wrong, get)
	failed(t, response, err).is(t, codes.Unauthenticated, commonv1.ErrorReason_CALLER_CREDENTIAL_INVALID)
	response, err = h.public.GetFulfillment(h.asOrder, get)
	failed(t, response, err).is(t, codes.NotFound, fulfillmentv1.ErrorReason_FULFILLMENT_NOT_FOUND, "fulfillment_id", get.GetId())
	// LookupDestination is public: no token needed.
	lookup, err := h.public.LookupDestination(context.Background(), &fulfillmentv1.LookupDestinationRequest{
		ProductId: "token-pln", Destination: map[string]string{"meter_number": "14123456789"}})
	if err != nil || lookup.GetCustomerName() == "" || !lookup.GetMatchesProduct() {
		t.Fatalf("%v %v", lookup, err)
	}
}

func TestValidationNamesTheFieldsAsThePythonServicesDo(t *testing.T) {
	h := start(t)
	response, err := h.public.CreateFulfillment(h.asOrder, &fulfillmentv1.CreateFulfillmentRequest{})
	f := failed(t, response, err)
	f.is(t, codes.InvalidArgument, nil)
	for _, field := range []string{"order_id", "package_id", "product_id", "delivery_kind", "quantity", "amount"} {
		if !slices.Contains(f.fields, field) {
			t.Errorf("no violation names %s: %v", field, f.fields)
		}
	}
	lookup, err := h.public.LookupDestination(context.Background(), &fulfillmentv1.LookupDestinationRequest{
		ProductId: "token-pln", Destination: map[string]string{"Meter": "1", "ok": ""}})
	f = failed(t, lookup, err)
	if !slices.Contains(f.fields, "destination[Meter]") || !slices.Contains(f.fields, "destination[ok]") {
		t.Fatalf("map entries are named destination[key]: %v", f.fields)
	}
	bad := createRequest("ord-1", "14123456789")
	bad.Amount.Amount = 0
	response, err = h.public.CreateFulfillment(h.asOrder, bad)
	if f := failed(t, response, err); !slices.Equal(f.fields, []string{"amount"}) {
		t.Fatalf("the CEL rule names amount: %v", f.fields)
	}
}

func TestLookupDestination(t *testing.T) {
	h := start(t)
	ctx := context.Background()
	lookup := func(product string, destination map[string]string) (*fulfillmentv1.LookupDestinationResponse, error) {
		return h.public.LookupDestination(ctx, &fulfillmentv1.LookupDestinationRequest{ProductId: product, Destination: destination})
	}
	response, err := lookup("token-pln", map[string]string{"meter_number": "14123450000"})
	failed(t, response, err).is(t, codes.NotFound, fulfillmentv1.ErrorReason_DESTINATION_NOT_FOUND, "product_id", "token-pln", "field", "meter_number")
	response, err = lookup("token-pln", map[string]string{"meter_number": "1412345"})
	f := failed(t, response, err)
	f.is(t, codes.InvalidArgument, commonv1.ErrorReason_INVALID_DESTINATION, "product_id", "token-pln", "field", "meter_number")
	if !slices.Equal(f.fields, []string{`destination["meter_number"]`}) {
		t.Fatalf("violation paths %v", f.fields)
	}
	response, err = lookup("pulsa-telkomsel", map[string]string{"phone_number": "081234567890", "extra": "1"})
	f = failed(t, response, err)
	f.is(t, codes.InvalidArgument, commonv1.ErrorReason_INVALID_DESTINATION, "field", "extra")
	response, err = lookup("pulsa-telkomsel", map[string]string{"phone_number": "081234567890"})
	if err != nil || response.GetOperatorName() != "Telkomsel" || !response.GetMatchesProduct() {
		t.Fatalf("%v %v", response, err)
	}
	response, err = lookup("diamonds", map[string]string{"user_id": "123", "zone_id": "2001"})
	failed(t, response, err).is(t, codes.FailedPrecondition, fulfillmentv1.ErrorReason_LOOKUP_NOT_SUPPORTED, "product_id", "diamonds")
	response, err = lookup("no-such-product", map[string]string{"x": "1"})
	failed(t, response, err).is(t, codes.NotFound, productv1.ErrorReason_PRODUCT_NOT_FOUND, "product_id", "no-such-product")
	h.catalog.Stop() // svc-product goes away
	response, err = lookup("token-pln", map[string]string{"meter_number": "14123456789"})
	failed(t, response, err).is(t, codes.Unavailable, commonv1.ErrorReason_DEPENDENCY_UNAVAILABLE, "service", productv1.ProductService_ServiceDesc.ServiceName)
}

func TestCreateThenTheSandboxAnswersThroughTheEventStream(t *testing.T) {
	h := start(t)
	ctx, cancel := context.WithTimeout(h.asOrder, 10*time.Second)
	defer cancel()
	stream, err := h.public.WatchFulfillmentEvents(ctx, &fulfillmentv1.WatchFulfillmentEventsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	created, err := h.public.CreateFulfillment(h.asOrder, createRequest("ord-live", "14123456789"))
	if err != nil {
		t.Fatal(err)
	}
	again, err := h.public.CreateFulfillment(h.asOrder, createRequest("ord-live", "14123456789"))
	if err != nil || again.GetFulfillment().GetId() != created.GetFulfillment().GetId() {
		t.Fatalf("a retry is the same fulfillment: %v %v", again, err)
	}
	conflict, err := h.public.CreateFulfillment(h.asOrder, createRequest("ord-live", "14123456788"))
	failed(t, conflict, err).is(t, codes.AlreadyExists, fulfillmentv1.ErrorReason_FULFILLMENT_CONFLICT, "fulfillment_id", created.GetFulfillment().GetId())
	var types []fulfillmentv1.FulfillmentEventType
	var last *fulfillmentv1.FulfillmentEvent
	for len(types) < 2 {
		response, err := stream.Recv()
		if err != nil {
			t.Fatal(err)
		}
		last = response.GetEvent()
		types = append(types, last.GetType())
	}
	if types[0] != fulfillmentv1.FulfillmentEventType_FULFILLMENT_EVENT_TYPE_CREATED || types[1] != fulfillmentv1.FulfillmentEventType_FULFILLMENT_EVENT_TYPE_SUCCEEDED {
		t.Fatalf("events %v", types)
	}
	done := last.GetFulfillment()
	if done.GetState() != fulfillmentv1.FulfillmentState_FULFILLMENT_STATE_SUCCEEDED || len(done.GetDeliveries()) != 1 || done.GetDeliveries()[0].GetKwh() != "13.84" {
		t.Fatalf("delivered %v", done)
	}

	// The same answer again, as a biller repeating its webhook would: a duplicate.
	payload := sandbox.EncodeNotification(done.GetId(), store.Outcome{Reference: done.GetBillerReference(), Succeeded: true, Deliveries: done.GetDeliveries()})
	notify := func(billerName string, payload []byte, signature string) (*fulfillmentv1.NotifyFulfillmentResponse, error) {
		return h.public.NotifyFulfillment(h.asOrder, &fulfillmentv1.NotifyFulfillmentRequest{Biller: billerName, Payload: payload, Signature: signature})
	}
	repeat, err := notify("sandbox", payload, biller.Sign(secret, payload))
	if err != nil || !repeat.GetDuplicate() || repeat.GetFulfillment().GetState() != fulfillmentv1.FulfillmentState_FULFILLMENT_STATE_SUCCEEDED {
		t.Fatalf("%v %v", repeat, err)
	}
	response, err := notify("sandbox", payload, biller.Sign("another secret", payload))
	failed(t, response, err).is(t, codes.Unauthenticated, fulfillmentv1.ErrorReason_BAD_SIGNATURE, "biller", "sandbox")
	response, err = notify("acme", payload, biller.Sign(secret, payload))
	f := failed(t, response, err)
	f.is(t, codes.InvalidArgument, fulfillmentv1.ErrorReason_UNKNOWN_BILLER, "biller", "acme")
	if !slices.Equal(f.fields, []string{"biller"}) {
		t.Fatalf("violations %v", f.fields)
	}
	otherwise := sandbox.EncodeNotification(done.GetId(), store.Outcome{Reference: done.GetBillerReference(),
		Failure: &fulfillmentv1.Failure{Reason: fulfillmentv1.FailureReason_FAILURE_REASON_BILLER_ERROR}})
	response, err = notify("sandbox", otherwise, biller.Sign(secret, otherwise))
	failed(t, response, err).is(t, codes.FailedPrecondition, fulfillmentv1.ErrorReason_FULFILLMENT_NOT_PENDING,
		"fulfillment_id", done.GetId(), "state", "FULFILLMENT_STATE_SUCCEEDED")
	unknown := sandbox.EncodeNotification("ful_00000000000000000000000000000000", store.Outcome{Reference: "SBX-1", Succeeded: true,
		Deliveries: done.GetDeliveries()})
	response, err = notify("sandbox", unknown, biller.Sign(secret, unknown))
	failed(t, response, err).is(t, codes.NotFound, fulfillmentv1.ErrorReason_FULFILLMENT_NOT_FOUND, "fulfillment_id", "ful_00000000000000000000000000000000")
	response, err = notify("sandbox", []byte("{not json"), biller.Sign(secret, []byte("{not json")))
	if f := failed(t, response, err); f.code != codes.InvalidArgument || !slices.Equal(f.fields, []string{"payload"}) {
		t.Fatalf("%v %v", f.code, f.fields)
	}
}

func TestALateAnswerCanBeOvertakenByTheBillersOwnNotification(t *testing.T) {
	h := start(t)
	created, err := h.public.CreateFulfillment(h.asOrder, createRequest("ord-late", "14123450009"))
	if err != nil {
		t.Fatal(err)
	}
	id := created.GetFulfillment().GetId()
	failure := sandbox.EncodeNotification(id, store.Outcome{Reference: sandbox.Reference(id),
		Failure: &fulfillmentv1.Failure{Reason: fulfillmentv1.FailureReason_FAILURE_REASON_BILLER_ERROR, Message: "timeout"}})
	response, err := h.public.NotifyFulfillment(h.asOrder, &fulfillmentv1.NotifyFulfillmentRequest{Biller: "sandbox", Payload: failure, Signature: biller.Sign(secret, failure)})
	if err != nil || response.GetDuplicate() || response.GetFulfillment().GetState() != fulfillmentv1.FulfillmentState_FULFILLMENT_STATE_FAILED {
		t.Fatalf("%v %v", response, err)
	}
}

func TestStopEndsEventStreamsCleanly(t *testing.T) {
	h := start(t)
	stream, err := h.public.WatchFulfillmentEvents(h.asOrder, &fulfillmentv1.WatchFulfillmentEventsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.public.CreateFulfillment(h.asOrder, createRequest("ord-stop", "14123450009")); err != nil {
		t.Fatal(err)
	}
	if _, err := stream.Recv(); err != nil {
		t.Fatal(err)
	}
	stopped := make(chan struct{})
	go func() { h.server.Stop(); close(stopped) }()
	if _, err := stream.Recv(); !errors.Is(err, io.EOF) {
		t.Fatalf("the stream must end with OK at a stop, got %v", err)
	}
	select {
	case <-stopped:
	case <-time.After(5 * time.Second):
		t.Fatal("Stop did not return within the grace period")
	}
}
