"""Conversions between aware UTC datetimes (what models store) and protobuf Timestamps."""

from __future__ import annotations

from datetime import UTC, datetime

from google.protobuf import timestamp_pb2


def utc_now() -> datetime:
    """Now, as an aware UTC datetime with microsecond precision."""
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """Treats naive datetimes (as databases return them) as UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def to_timestamp(value: datetime | None) -> timestamp_pb2.Timestamp | None:
    """The Timestamp of value, or None to leave the field unset.

    Computed from the whole days, seconds and microseconds since the epoch (exact, and a
    few times cheaper than Timestamp.FromDatetime, which a catalog page calls forty times).
    """
    if value is None:
        return None
    since_epoch = as_utc(value) - EPOCH
    return timestamp_pb2.Timestamp(
        seconds=since_epoch.days * 86_400 + since_epoch.seconds, nanos=since_epoch.microseconds * 1000
    )
