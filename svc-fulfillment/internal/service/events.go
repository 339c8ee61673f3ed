package service

import (
	"time"

	fulfillmentv1 "github.com/pasar-shop/pasar/contracts/go/pasar/fulfillment/v1"
	"google.golang.org/grpc"

	"github.com/pasar-shop/pasar/svc-fulfillment/internal/telemetry"
)

// eventBatch is how many events one read of the backlog sends.
const eventBatch = 100

// WatchFulfillmentEvents streams the backlog after the cursor, then each new event: this
// instance's writes wake the stream at once, other instances' are found by polling. It
// ends when the caller cancels, or cleanly when the server stops.
func (s *Service) WatchFulfillmentEvents(req *fulfillmentv1.WatchFulfillmentEventsRequest, stream grpc.ServerStreamingServer[fulfillmentv1.WatchFulfillmentEventsResponse]) error {
	ctx := stream.Context()
	// The stream's reads make no spans: a stream lasts hours and reads every poll.
	reads := telemetry.WithoutSpan(ctx)
	cursor := req.GetAfterSequence()
	for {
		wake := s.events.Wait() // taken before the read: a write after the read still wakes us
		events, err := s.store.EventsAfter(reads, cursor, eventBatch)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return err
		}
		for _, event := range events {
			if err := stream.Send(&fulfillmentv1.WatchFulfillmentEventsResponse{Event: event}); err != nil {
				return err
			}
			cursor = event.GetSequence()
		}
		if len(events) == eventBatch {
			continue
		}
		timer := time.NewTimer(s.poll)
		select {
		case <-ctx.Done():
			timer.Stop()
			return ctx.Err()
		case <-s.stopping:
			timer.Stop()
			return nil
		case <-wake:
			timer.Stop()
		case <-timer.C:
		}
	}
}
