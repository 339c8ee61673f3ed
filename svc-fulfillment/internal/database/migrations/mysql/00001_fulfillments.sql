-- The fulfillments, their events and the sandbox biller's answers to send.
-- Instants are microseconds since the Unix epoch (UTC), alike on both dialects. Ids are
-- compared byte for byte (binary collation): the contract's order ids allow both cases.

-- +goose Up
CREATE TABLE fulfillments (
    id               VARCHAR(36)  CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY,
    order_id         VARCHAR(64)  CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    package_id       VARCHAR(63)  CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    product_id       VARCHAR(63)  CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    delivery_kind    INT          NOT NULL,
    quantity         INT          NOT NULL,
    currency_code    CHAR(3)      NOT NULL,
    amount           BIGINT       NOT NULL,
    destination      TEXT         NOT NULL,
    state            INT          NOT NULL,
    deliveries       TEXT         NOT NULL,
    failure_reason   INT          NOT NULL DEFAULT 0,
    failure_message  TEXT         NOT NULL,
    biller           VARCHAR(32)  NOT NULL,
    biller_reference VARCHAR(128) COLLATE utf8mb4_bin NOT NULL DEFAULT '',
    -- 1 until the biller has accepted the request: the request worker's to-do list.
    request_due      TINYINT      NOT NULL DEFAULT 1,
    create_time      BIGINT       NOT NULL,
    update_time      BIGINT       NOT NULL,
    complete_time    BIGINT       NULL,
    CONSTRAINT fulfillments_line UNIQUE (order_id, package_id),
    INDEX fulfillments_request_due (request_due)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE fulfillment_events (
    sequence       BIGINT      NOT NULL AUTO_INCREMENT PRIMARY KEY,
    fulfillment_id VARCHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    type           INT         NOT NULL,
    -- The pasar.fulfillment.v1.Fulfillment right after the change, in protobuf's binary form.
    snapshot       MEDIUMBLOB  NOT NULL,
    create_time    BIGINT      NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- One row, locked by every transaction that writes an event: such transactions commit one
-- at a time, so events become visible in sequence order and a reader that has seen
-- sequence n never later finds a smaller one appear (AUTO_INCREMENT alone allows that).
CREATE TABLE fulfillment_event_turn (
    id   INT    NOT NULL PRIMARY KEY,
    turn BIGINT NOT NULL
) ENGINE=InnoDB;
INSERT INTO fulfillment_event_turn (id, turn) VALUES (1, 0);

CREATE TABLE sandbox_biller_jobs (
    fulfillment_id VARCHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY,
    reference      VARCHAR(64) NOT NULL,
    -- The request as a biller receives it: the pasar.fulfillment.v1.Fulfillment, binary.
    request        MEDIUMBLOB  NOT NULL,
    due_time       BIGINT      NOT NULL,
    answered_time  BIGINT      NULL,
    create_time    BIGINT      NOT NULL,
    INDEX sandbox_biller_jobs_due (answered_time, due_time)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- +goose Down
DROP TABLE sandbox_biller_jobs;
DROP TABLE fulfillment_event_turn;
DROP TABLE fulfillment_events;
DROP TABLE fulfillments;
