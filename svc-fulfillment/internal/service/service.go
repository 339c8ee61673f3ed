// Package service is the FulfillmentService: the gRPC handlers, the worker that hands
// accepted fulfillments to the biller exactly once each, and the event streams.
package service

import (
	"context"
	"errors"
	"log/slog"
	"time"

	commonv1 "github.com/pasar-shop/pasar/contracts/go/pasar/common/v1"
	fulfillmentv1 "github.com/pasar-shop/pasar/contracts/go/pasar/fulfillment/v1"
	productv1 "github.com/pasar-shop/pasar/contracts/go/pasar/product/v1"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/pasar-shop/pasar/svc-fulfillment/internal/biller"
	"github.com/pasar-shop/pasar/svc-fulfillment/internal/destinations"
	"github.com/pasar-shop/pasar/svc-fulfillment/internal/logging"
	"github.com/pasar-shop/pasar/svc-fulfillment/internal/rpcerr"
	"github.com/pasar-shop/pasar/svc-fulfillment/internal/store"
	"github.com/pasar-shop/pasar/svc-fulfillment/internal/telemetry"
)

// ProductService is the name DEPENDENCY_UNAVAILABLE names when svc-product cannot be
// reached: the generated service name, never spelled by hand.
var ProductService = productv1.ProductService_ServiceDesc.ServiceName

// productCallTimeout bounds a GetProduct call when the caller set no shorter deadline.
const productCallTimeout = 5 * time.Second

// Products is the part of svc-product the service calls.
type Products interface {
	GetProduct(ctx context.Context, in *productv1.GetProductRequest, opts ...grpc.CallOption) (*productv1.GetProductResponse, error)
}

// Service implements fulfillmentv1.FulfillmentServiceServer.
type Service struct {
	fulfillmentv1.UnimplementedFulfillmentServiceServer
	store    *store.Store
	biller   biller.Biller
	products Products
	events   *Broadcaster
	requests chan struct{}
	poll     time.Duration
	stopping <-chan struct{}
	log      *slog.Logger
	tracing  *telemetry.Tracing
}

// Options are what a Service is made of.
type Options struct {
	Store    *store.Store
	Biller   biller.Biller
	Products Products
	Events   *Broadcaster
	// EventPoll is how often a stream looks for events other instances wrote.
	EventPoll time.Duration
	// Stopping is closed when the server begins to stop: streams end cleanly.
	Stopping <-chan struct{}
	Log      *slog.Logger
	// Tracing makes the spans of the background work (nil: off).
	Tracing *telemetry.Tracing
}

// New is the service; call Written after each store commit (the store's callback).
func New(o Options) *Service {
	tracing := o.Tracing
	if tracing == nil {
		tracing = telemetry.Off()
	}
	return &Service{store: o.Store, biller: o.Biller, products: o.Products, events: o.Events,
		requests: make(chan struct{}, 1), poll: o.EventPoll, stopping: o.Stopping, log: o.Log, tracing: tracing}
}

// Written wakes the event streams and the request worker: the store committed a change.
func (s *Service) Written() {
	s.events.Ring()
	select {
	case s.requests <- struct{}{}:
	default:
	}
}

// LookupDestination checks the destination against the product's fields, then asks the biller.
func (s *Service) LookupDestination(ctx context.Context, req *fulfillmentv1.LookupDestinationRequest) (*fulfillmentv1.LookupDestinationResponse, error) {
	product, err := s.product(ctx, req.GetProductId())
	if err != nil {
		return nil, err
	}
	if err := CheckDestination(product, req.GetDestination(), "destination"); err != nil {
		return nil, err
	}
	field := ""
	for _, f := range product.GetDestinationFields() {
		if f.GetLookupSupported() {
			field = f.GetName()
			break
		}
	}
	if field == "" {
		return nil, rpcerr.New(codes.FailedPrecondition, fulfillmentv1.ErrorReason_LOOKUP_NOT_SUPPORTED,
			"none of this product's destination fields can be looked up", "product_id", product.GetId())
	}
	response, err := s.biller.Lookup(ctx, product, field, req.GetDestination())
	if errors.Is(err, biller.ErrDestinationNotFound) {
		return nil, rpcerr.New(codes.NotFound, fulfillmentv1.ErrorReason_DESTINATION_NOT_FOUND,
			"the biller knows no such "+field, "product_id", product.GetId(), "field", field)
	}
	if err != nil {
		return nil, err
	}
	s.log.InfoContext(ctx, "destination looked up", "product_id", product.GetId(),
		"destination", logging.MaskDestination(req.GetDestination()), "matches_product", response.GetMatchesProduct())
	return response, nil
}

// CheckDestination is INVALID_ARGUMENT INVALID_DESTINATION naming the first broken rule
// of destination (at path in the request) for product, or nil.
func CheckDestination(product *productv1.Product, destination map[string]string, path string) error {
	violations := destinations.Violations(product.GetDestinationFields(), destination)
	if len(violations) == 0 {
		return nil
	}
	first := violations[0]
	return rpcerr.New(codes.InvalidArgument, commonv1.ErrorReason_INVALID_DESTINATION,
		"invalid destination: "+first.Description, "product_id", product.GetId(), "field", first.Field).
		WithViolations(rpcerr.Violation{Field: first.Path(path), Description: first.Description})
}

// product is the catalog's product, or the status that says why not: the catalog's own
// NOT_FOUND passed through, UNAVAILABLE DEPENDENCY_UNAVAILABLE when it cannot be reached.
func (s *Service) product(ctx context.Context, id string) (*productv1.Product, error) {
	ctx, cancel := context.WithTimeout(ctx, productCallTimeout)
	defer cancel()
	response, err := s.products.GetProduct(ctx, &productv1.GetProductRequest{Id: id})
	if err == nil {
		return response.GetProduct(), nil
	}
	st := status.Convert(err)
	switch st.Code() {
	case codes.NotFound:
		return nil, st.Err()
	case codes.Unavailable, codes.DeadlineExceeded:
		s.log.WarnContext(ctx, "a peer is unavailable", "peer_code", st.Code().String(), "details", st.Message())
		return nil, rpcerr.New(codes.Unavailable, commonv1.ErrorReason_DEPENDENCY_UNAVAILABLE,
			"a service this call needs is unavailable", "service", ProductService)
	case codes.Canceled:
		return nil, st.Err()
	}
	s.log.ErrorContext(ctx, "unexpected status from another service", "peer_code", st.Code().String())
	return nil, status.Error(codes.Internal, "internal error")
}

// CreateFulfillment accepts a line, once: a retry with the same content gets the same fulfillment.
func (s *Service) CreateFulfillment(ctx context.Context, req *fulfillmentv1.CreateFulfillmentRequest) (*fulfillmentv1.CreateFulfillmentResponse, error) {
	if !s.biller.Supports(req.GetDeliveryKind()) {
		return nil, rpcerr.New(codes.FailedPrecondition, fulfillmentv1.ErrorReason_DELIVERY_KIND_NOT_SUPPORTED,
			"the biller does not deliver this kind", "delivery_kind", req.GetDeliveryKind().String())
	}
	f, created, err := s.store.Create(ctx, store.NewFulfillment{
		OrderID: req.GetOrderId(), PackageID: req.GetPackageId(), ProductID: req.GetProductId(),
		Kind: req.GetDeliveryKind(), Quantity: req.GetQuantity(), Amount: req.GetAmount(),
		Destination: req.GetDestination(), Biller: s.biller.Name(),
	})
	var conflict *store.ConflictError
	if errors.As(err, &conflict) {
		return nil, rpcerr.New(codes.AlreadyExists, fulfillmentv1.ErrorReason_FULFILLMENT_CONFLICT,
			"the order line already has a fulfillment with other content", "fulfillment_id", conflict.Existing.GetId())
	}
	if err != nil {
		return nil, err
	}
	telemetry.Annotate(ctx, fulfillmentAttributes(f)...)
	if created {
		s.log.InfoContext(ctx, "fulfillment accepted", "fulfillment_id", f.GetId(), "order_id", f.GetOrderId(),
			"package_id", f.GetPackageId(), "destination", logging.MaskDestination(f.GetDestination()))
	}
	return &fulfillmentv1.CreateFulfillmentResponse{Fulfillment: f}, nil
}

// GetFulfillment reads one fulfillment.
func (s *Service) GetFulfillment(ctx context.Context, req *fulfillmentv1.GetFulfillmentRequest) (*fulfillmentv1.GetFulfillmentResponse, error) {
	f, err := s.store.Get(ctx, req.GetId())
	if errors.Is(err, store.ErrNotFound) {
		return nil, notFound(req.GetId())
	}
	if err != nil {
		return nil, err
	}
	return &fulfillmentv1.GetFulfillmentResponse{Fulfillment: f}, nil
}

func notFound(id string) error {
	return rpcerr.New(codes.NotFound, fulfillmentv1.ErrorReason_FULFILLMENT_NOT_FOUND, "no such fulfillment", "fulfillment_id", id)
}

// NotifyFulfillment handles a biller's signed answer.
func (s *Service) NotifyFulfillment(ctx context.Context, req *fulfillmentv1.NotifyFulfillmentRequest) (*fulfillmentv1.NotifyFulfillmentResponse, error) {
	return s.Notify(ctx, req.GetBiller(), req.GetPayload(), req.GetSignature())
}

// Notify is NotifyFulfillment's handling, which the sandbox biller's notifications reach too.
func (s *Service) Notify(ctx context.Context, billerName string, payload []byte, signature string) (*fulfillmentv1.NotifyFulfillmentResponse, error) {
	if billerName != s.biller.Name() {
		return nil, rpcerr.New(codes.InvalidArgument, fulfillmentv1.ErrorReason_UNKNOWN_BILLER,
			"this service knows no biller of this name", "biller", billerName).
			WithViolations(rpcerr.Violation{Field: "biller", Description: "no biller of this name delivers for this service"})
	}
	notification, err := s.biller.ParseNotification(payload, signature)
	if errors.Is(err, biller.ErrBadSignature) {
		s.log.WarnContext(ctx, "notification with a bad signature", "biller", billerName)
		return nil, rpcerr.New(codes.Unauthenticated, fulfillmentv1.ErrorReason_BAD_SIGNATURE,
			"the notification's signature does not verify", "biller", billerName)
	}
	if err != nil {
		return nil, rpcerr.New(codes.InvalidArgument, nil, "invalid NotifyFulfillmentRequest: payload: "+err.Error()).
			WithViolations(rpcerr.Violation{Field: "payload", Description: err.Error()})
	}
	f, duplicate, err := s.complete(ctx, notification.FulfillmentID, notification.Outcome)
	var notPending *store.NotPendingError
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, notFound(notification.FulfillmentID)
	case errors.As(err, &notPending):
		return nil, rpcerr.New(codes.FailedPrecondition, fulfillmentv1.ErrorReason_FULFILLMENT_NOT_PENDING,
			"the fulfillment already ended otherwise", "fulfillment_id", notPending.Fulfillment.GetId(),
			"state", notPending.Fulfillment.GetState().String())
	case err != nil:
		return nil, err
	}
	if !duplicate {
		s.log.InfoContext(ctx, "fulfillment ended", "fulfillment_id", f.GetId(), "state", f.GetState().String(),
			"destination", logging.MaskDestination(f.GetDestination()))
	}
	return &fulfillmentv1.NotifyFulfillmentResponse{Fulfillment: f, Duplicate: duplicate}, nil
}

// complete applies a biller's outcome in a CONSUMER span whose parent is the call that
// created the fulfillment (the checkout's trace holds the whole delivery) and which links
// to the notification's own call, its immediate cause.
func (s *Service) complete(ctx context.Context, id string, outcome store.Outcome) (f *fulfillmentv1.Fulfillment, duplicate bool, err error) {
	if !s.tracing.On() {
		return s.store.Complete(ctx, id, outcome)
	}
	creation, err := s.store.CreationTrace(ctx, id)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, false, err
	}
	ctx, span := s.tracing.Start(ctx, telemetry.Work{Name: "process " + store.BillerNotifications, Parent: creation,
		Links:      []trace.SpanContext{trace.SpanContextFromContext(ctx)},
		Attributes: append(telemetry.Messaging(store.BillerNotifications, id), attribute.String(telemetry.FulfillmentIDAttribute, id))})
	defer func() { telemetry.End(span, err) }()
	f, duplicate, err = s.store.Complete(ctx, id, outcome)
	if err == nil {
		span.SetAttributes(attribute.Bool("pasar.duplicate", duplicate), attribute.String(telemetry.OrderIDAttribute, f.GetOrderId()))
	}
	return f, duplicate, err
}
