"""Queries whose SQL peewee builds once per shape, then run with each call's values.

Building a query's SQL costs peewee as much CPU as running it, or more: half of an
uncached catalog page in svc-product; three times the query for an order by id in
svc-order, whose mail outbox reads an order and its lines for every e-mail. A query's SQL
depends only on its shape (the kind of database, which filters it has, how many ids an IN
list holds), not on the values, so :class:`PreparedQuery` builds it once per shape with a
placeholder for each value, remembers where each placeholder landed among the
parameters, and binds a call's own values there. :meth:`PreparedQuery.rows` gives the rows
as the driver returns them; :meth:`PreparedQuery.instances` makes them into model
instances (``Model.raw``: each column converted by its field, as the select itself would).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import peewee

ModelT = TypeVar("ModelT", bound=peewee.Model)

# The most shapes one query keeps (IN lists of every length up to a page, and a few more).
MAX_SHAPES = 256

Shape = tuple[Any, ...]  # the database's class, then each argument's length or truth
# Where each parameter comes from: (argument, item) of the call, or (-1, the constant).
Slots = tuple[tuple[int, Any], ...]


def placeholder(argument: int, item: int = -1) -> str:
    return f"\x00{argument}.{item}\x00"


class PreparedQuery:
    """A query built by build(*arguments), its SQL made once per shape.

    build must use its string and integer arguments as values (compared, listed, limited),
    unchanged; a falsy argument may leave its filter out (the shape says which), and a
    tuple argument is a list of values (its length is part of the shape). A value build
    changes (a LIKE pattern made of it) is refused: use the query unprepared.
    """

    def __init__(self, database: peewee.DatabaseProxy, build: Callable[..., peewee.Query]) -> None:
        self.database = database
        self.build = build
        self._statements: dict[Shape, tuple[str, Slots]] = {}
        self._lock = threading.Lock()

    def rows(self, *arguments: Any) -> list[tuple[Any, ...]]:
        """The query's rows for these arguments, as the driver returns them."""
        sql, params = self._bound(arguments)
        return list(self.database.execute_sql(sql, params).fetchall())  # PyMySQL's is a tuple

    def instances(self, model: type[ModelT], *arguments: Any) -> list[ModelT]:
        """The query's rows for these arguments as instances of model (the query selects
        model's columns)."""
        sql, params = self._bound(arguments)
        return list(model.raw(sql, *params))

    def _bound(self, arguments: Sequence[Any]) -> tuple[str, list[Any]]:
        # The dialect is part of the shape: a process's tests move the proxy between databases.
        dialect = type(self.database.obj)
        shape: Shape = (
            dialect,
            *(len(value) if isinstance(value, tuple) else bool(value) for value in arguments),
        )
        statement = self._statements.get(shape)
        if statement is None:
            statement = self._prepare(shape, arguments)
        sql, slots = statement
        params = [
            constant_or_item if argument < 0 else _value(arguments[argument], constant_or_item)
            for argument, constant_or_item in slots
        ]
        return sql, params

    def _prepare(self, shape: Shape, arguments: Sequence[Any]) -> tuple[str, Slots]:
        placeholders = [
            tuple(placeholder(position, item) for item in range(len(value)))
            if isinstance(value, tuple)
            else (placeholder(position) if value else value)
            for position, value in enumerate(arguments)
        ]
        sql, params = self.build(*placeholders).sql()
        slots = tuple(_slot(param) for param in params)
        with self._lock:
            if len(self._statements) >= MAX_SHAPES:
                self._statements.clear()
            self._statements[shape] = (sql, slots)
        return sql, slots


def _slot(param: Any) -> tuple[int, Any]:
    if isinstance(param, str) and "\x00" in param:
        if not (param.startswith("\x00") and param.endswith("\x00")):
            raise ValueError("the query changes a value it is given: it cannot be prepared")
        argument, item = param.strip("\x00").split(".")
        return int(argument), int(item)
    return -1, param


def _value(argument: Any, item: int) -> Any:
    return argument if item < 0 else argument[item]
