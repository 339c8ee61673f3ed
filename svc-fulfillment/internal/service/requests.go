package service

import (
	"context"
	"errors"
	"fmt"
	"time"

	fulfillmentv1 "github.com/pasar-shop/pasar/contracts/go/pasar/fulfillment/v1"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/pasar-shop/pasar/svc-fulfillment/internal/database"
	"github.com/pasar-shop/pasar/svc-fulfillment/internal/store"
	"github.com/pasar-shop/pasar/svc-fulfillment/internal/telemetry"
)

// requestRetry is how long the request worker waits after a failure, and at most between
// looks for requests other instances accepted.
const requestRetry = time.Second

// requestBatch is how many due requests one read of the store takes.
const requestBatch = 50

// RunRequests hands each accepted fulfillment to the biller until ctx ends: at start (a
// crash may have left requests due), on the doorbell (Written), and every requestRetry.
// The marker is cleared only after the biller accepted, so a crash in between repeats the
// request; the biller is idempotent on the fulfillment id and delivers once.
func (s *Service) RunRequests(ctx context.Context) {
	for {
		if err := s.requestDue(ctx); err != nil && ctx.Err() == nil {
			s.log.WarnContext(ctx, "biller requests wait", "error", err.Error())
		}
		timer := time.NewTimer(requestRetry)
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-s.requests:
			timer.Stop()
		case <-timer.C:
		}
	}
}

// requestDue sends every due request. One the biller refuses now stays due and waits for
// the next round; the others are still sent, so that one bad request (a destination the
// biller's system chokes on) does not hold back every line accepted after it.
func (s *Service) requestDue(ctx context.Context) error {
	for {
		due, err := s.store.DueRequests(ctx, requestBatch)
		if err != nil || len(due) == 0 {
			return err
		}
		var failed []error
		for _, d := range due {
			if err := s.request(ctx, d); err != nil {
				if ctx.Err() != nil || database.Classify(err) == database.Unavailable {
					return err // every other request would fail alike
				}
				failed = append(failed, fmt.Errorf("fulfillment %s: %w", d.Fulfillment.GetId(), err))
			}
		}
		if len(failed) > 0 {
			return errors.Join(failed...)
		}
	}
}

// request hands d's fulfillment to the biller and records its acceptance, in a CONSUMER
// span whose parent is the call that created the fulfillment (so the checkout's trace
// holds it); the biller call itself is a CLIENT span.
func (s *Service) request(ctx context.Context, d store.Due) (err error) {
	f := d.Fulfillment
	ctx, span := s.tracing.Start(ctx, telemetry.Work{Name: "process " + store.BillerRequests, Parent: d.Trace,
		Attributes: append(telemetry.Messaging(store.BillerRequests, f.GetId()), fulfillmentAttributes(f)...)})
	defer func() { telemetry.End(span, err) }()
	reference, err := s.submit(ctx, f)
	if err != nil {
		return err
	}
	if err := s.store.MarkRequested(ctx, f.GetId(), reference); err != nil {
		return err
	}
	s.log.InfoContext(ctx, "fulfillment requested", "fulfillment_id", f.GetId(), "biller", s.biller.Name(),
		"biller_reference", reference)
	return nil
}

// submit is the biller's Request in a CLIENT span "biller submit".
func (s *Service) submit(ctx context.Context, f *fulfillmentv1.Fulfillment) (reference string, err error) {
	ctx, span := s.tracing.Start(ctx, telemetry.Work{Name: "biller submit", Kind: trace.SpanKindClient,
		Attributes: []attribute.KeyValue{attribute.String("pasar.biller", s.biller.Name()),
			attribute.String(telemetry.FulfillmentIDAttribute, f.GetId())}})
	defer func() { telemetry.End(span, err) }()
	reference, err = s.biller.Request(ctx, f)
	if err == nil {
		span.SetAttributes(attribute.String("pasar.biller_reference", reference))
	}
	return reference, err
}

// fulfillmentAttributes are the shared span attributes naming f and its order.
func fulfillmentAttributes(f *fulfillmentv1.Fulfillment) []attribute.KeyValue {
	return []attribute.KeyValue{attribute.String(telemetry.FulfillmentIDAttribute, f.GetId()),
		attribute.String(telemetry.OrderIDAttribute, f.GetOrderId())}
}
