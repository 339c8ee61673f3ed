-- The fulfillments, their events and the sandbox biller's answers to send.
-- Instants are microseconds since the Unix epoch (UTC), alike on both dialects.

-- +goose Up
CREATE TABLE fulfillments (
    id               VARCHAR(36)  NOT NULL PRIMARY KEY,
    order_id         VARCHAR(64)  NOT NULL,
    package_id       VARCHAR(63)  NOT NULL,
    product_id       VARCHAR(63)  NOT NULL,
    delivery_kind    INTEGER      NOT NULL,
    quantity         INTEGER      NOT NULL,
    currency_code    CHAR(3)      NOT NULL,
    amount           BIGINT       NOT NULL,
    destination      TEXT         NOT NULL,
    state            INTEGER      NOT NULL,
    deliveries       TEXT         NOT NULL DEFAULT '[]',
    failure_reason   INTEGER      NOT NULL DEFAULT 0,
    failure_message  TEXT         NOT NULL DEFAULT '',
    biller           VARCHAR(32)  NOT NULL,
    biller_reference VARCHAR(128) NOT NULL DEFAULT '',
    -- 1 until the biller has accepted the request: the request worker's to-do list.
    request_due      INTEGER      NOT NULL DEFAULT 1,
    create_time      BIGINT       NOT NULL,
    update_time      BIGINT       NOT NULL,
    complete_time    BIGINT,
    CONSTRAINT fulfillments_line UNIQUE (order_id, package_id)
);
CREATE INDEX fulfillments_request_due ON fulfillments (request_due);

CREATE TABLE fulfillment_events (
    sequence       INTEGER     NOT NULL PRIMARY KEY AUTOINCREMENT,
    fulfillment_id VARCHAR(36) NOT NULL,
    type           INTEGER     NOT NULL,
    -- The pasar.fulfillment.v1.Fulfillment right after the change, in protobuf's binary form.
    snapshot       BLOB        NOT NULL,
    create_time    BIGINT      NOT NULL
);

-- One row, updated by every transaction that writes an event (as on MySQL, where it
-- makes such transactions commit in sequence order; SQLite serialises writers anyway).
CREATE TABLE fulfillment_event_turn (
    id   INTEGER NOT NULL PRIMARY KEY,
    turn BIGINT  NOT NULL
);
INSERT INTO fulfillment_event_turn (id, turn) VALUES (1, 0);

CREATE TABLE sandbox_biller_jobs (
    fulfillment_id VARCHAR(36) NOT NULL PRIMARY KEY,
    reference      VARCHAR(64) NOT NULL,
    -- The request as a biller receives it: the pasar.fulfillment.v1.Fulfillment, binary.
    request        BLOB        NOT NULL,
    due_time       BIGINT      NOT NULL,
    answered_time  BIGINT,
    create_time    BIGINT      NOT NULL
);
CREATE INDEX sandbox_biller_jobs_due ON sandbox_biller_jobs (answered_time, due_time);

-- +goose Down
DROP TABLE sandbox_biller_jobs;
DROP TABLE fulfillment_event_turn;
DROP TABLE fulfillment_events;
DROP TABLE fulfillments;
