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


def to_timestamp(value: datetime | None) -> timestamp_pb2.Timestamp | None:
    """The Timestamp of value, or None to leave the field unset."""
    if value is None:
        return None
    timestamp = timestamp_pb2.Timestamp()
    timestamp.FromDatetime(as_utc(value))
    return timestamp
