-- The W3C trace context of the call that wrote each fulfillment (CreateFulfillment's) and
-- each event (its cause), so that the biller hand-off, the notification's handling and the
-- order service's consumer join the checkout's trace, even after a restart. Empty when
-- the call was not traced.

-- +goose Up
ALTER TABLE fulfillments
    ADD COLUMN traceparent VARCHAR(55) CHARACTER SET ascii COLLATE ascii_bin NOT NULL DEFAULT '',
    ADD COLUMN tracestate VARCHAR(512) CHARACTER SET ascii COLLATE ascii_bin NOT NULL DEFAULT '',
    -- The metrics count the fulfillments still waiting for the biller's answer at each scrape.
    ADD INDEX fulfillments_state (state);
ALTER TABLE fulfillment_events
    ADD COLUMN traceparent VARCHAR(55) CHARACTER SET ascii COLLATE ascii_bin NOT NULL DEFAULT '',
    ADD COLUMN tracestate VARCHAR(512) CHARACTER SET ascii COLLATE ascii_bin NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE fulfillment_events DROP COLUMN tracestate, DROP COLUMN traceparent;
ALTER TABLE fulfillments DROP INDEX fulfillments_state, DROP COLUMN tracestate, DROP COLUMN traceparent;
