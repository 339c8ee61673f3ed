package store

import (
	"context"
	"database/sql"

	fulfillmentv1 "github.com/pasar-shop/pasar/contracts/go/pasar/fulfillment/v1"

	"github.com/pasar-shop/pasar/svc-fulfillment/internal/telemetry"
)

// AddEventInTx writes an event of f in tx as Create and Complete do, so that a test can
// hold an event's transaction open while another writer runs.
func (s *Store) AddEventInTx(ctx context.Context, tx *sql.Tx, f *fulfillmentv1.Fulfillment) error {
	return s.addEvent(ctx, tx, fulfillmentv1.FulfillmentEventType_FULFILLMENT_EVENT_TYPE_CREATED, f, s.now(), telemetry.Stored{})
}
