"""Reads by one key whose SQL peewee builds once per kind of database, not at every call.

Building a select's SQL cost peewee three times what running it costs (an order by id on
SQLite: 0.24 of 0.33 ms; an order's lines: 0.18 of 0.27 ms; the mail outbox reads both
for every e-mail). The SQL depends only on the kind of database (its quoting), not on the
key, so :class:`KeyedSelect` builds it once per kind with a marker in the key's place and
binds each call's key there. ``Model.raw`` makes the rows into instances, each column
converted by its field, as the select itself would.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

import peewee

ModelT = TypeVar("ModelT", bound=peewee.Model)

# Stands for the key while the SQL is built: a string no key is.
KEY_MARKER = "\x00key\x00"


class KeyedSelect(Generic[ModelT]):
    """build(key) is a select of model whose only value that varies is key, used unchanged
    (compared with a column); its SQL is built once per kind of database."""

    def __init__(self, model: type[ModelT], build: Callable[[str], peewee.ModelSelect[ModelT]]) -> None:
        self.model = model
        self.build = build
        self._statements: dict[type[peewee.Database], tuple[str, tuple[Any, ...]]] = {}

    def rows(self, key: str) -> list[ModelT]:
        database = self.model._meta.database
        # The kind is part of the key: a process's tests move the proxy between databases.
        kind = type(database.obj if isinstance(database, peewee.DatabaseProxy) else database)
        statement = self._statements.get(kind)
        if statement is None:
            statement = self._statements[kind] = self._prepare()
        sql, params = statement
        return list(self.model.raw(sql, *(key if param == KEY_MARKER else param for param in params)))

    def _prepare(self) -> tuple[str, tuple[Any, ...]]:
        sql, params = self.build(KEY_MARKER).sql()
        if [param for param in params if param == KEY_MARKER] != [KEY_MARKER]:
            raise ValueError("the query must use its key once, unchanged")
        return sql, tuple(params)
