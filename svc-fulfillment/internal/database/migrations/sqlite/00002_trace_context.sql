-- The W3C trace context of the call that wrote each fulfillment (CreateFulfillment's) and
-- each event (its cause), so that the biller hand-off, the notification's handling and the
-- order service's consumer join the checkout's trace, even after a restart. Empty when
-- the call was not traced.

-- +goose Up
ALTER TABLE fulfillments ADD COLUMN traceparent VARCHAR(55) NOT NULL DEFAULT '';
ALTER TABLE fulfillments ADD COLUMN tracestate VARCHAR(512) NOT NULL DEFAULT '';
ALTER TABLE fulfillment_events ADD COLUMN traceparent VARCHAR(55) NOT NULL DEFAULT '';
ALTER TABLE fulfillment_events ADD COLUMN tracestate VARCHAR(512) NOT NULL DEFAULT '';
-- The metrics count the fulfillments still waiting for the biller's answer at each scrape.
CREATE INDEX fulfillments_state ON fulfillments (state);

-- +goose Down
DROP INDEX fulfillments_state;
ALTER TABLE fulfillment_events DROP COLUMN tracestate;
ALTER TABLE fulfillment_events DROP COLUMN traceparent;
ALTER TABLE fulfillments DROP COLUMN tracestate;
ALTER TABLE fulfillments DROP COLUMN traceparent;
