package service

import (
	"context"
	"time"
)

// requestRetry is how long the request worker waits after a failure, and at most between
// looks for requests other instances accepted.
const requestRetry = time.Second

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

func (s *Service) requestDue(ctx context.Context) error {
	for {
		due, err := s.store.DueRequests(ctx, 50)
		if err != nil || len(due) == 0 {
			return err
		}
		for _, f := range due {
			reference, err := s.biller.Request(ctx, f)
			if err != nil {
				return err
			}
			if err := s.store.MarkRequested(ctx, f.GetId(), reference); err != nil {
				return err
			}
			s.log.InfoContext(ctx, "fulfillment requested", "fulfillment_id", f.GetId(), "biller", s.biller.Name(),
				"biller_reference", reference)
		}
	}
}
