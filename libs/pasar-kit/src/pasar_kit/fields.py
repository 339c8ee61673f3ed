"""Column types every service stores the same way.

``UtcDateTimeField``: instants are aware UTC datetimes in Python and naive UTC with
microseconds in the database (``DATETIME(6)``: MySQL's plain DATETIME drops the
microseconds, so a row read back would differ from the one just written; SQLite cannot
compare datetimes with offsets as text). SQLite hands datetimes back as ISO text, which
``datetime.fromisoformat`` parses in C, many times faster than peewee's list of
``strptime`` formats: a catalog page reads dozens of them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import peewee

from pasar_kit.timestamps import as_utc


class UtcDateTimeField(peewee.DateTimeField):
    """An aware UTC datetime, stored naive in UTC with microseconds."""

    field_type = "DATETIME(6)"

    def db_value(self, value: Any) -> Any:
        if isinstance(value, datetime):
            value = as_utc(value).replace(tzinfo=None)
        parent: Any = super()  # peewee's own conversions are untyped
        return parent.db_value(value)

    def python_value(self, value: Any) -> Any:
        if isinstance(value, str):
            try:
                value = datetime.fromisoformat(value)
            except ValueError:
                parent: Any = super()
                value = parent.python_value(value)
        return as_utc(value) if isinstance(value, datetime) else value
