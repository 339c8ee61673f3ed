"""Queries whose SQL peewee builds once per shape, then run with each call's values.

Building a query's SQL costs peewee as much CPU as running it, or more: half of an
uncached catalog page in svc-product; three times the query for an order by id in
svc-order, whose mail outbox reads an order and its lines for every e-mail; most of a
checkout's writes. A query's SQL depends only on its shape (the kind of database, which
filters it has, how many ids an IN list holds), not on the values, so the classes here
build it once per shape with a placeholder for each value, remember where each
placeholder landed among the parameters (and which field's conversion peewee would have
applied to it there), and bind a call's own values, converted, there.

- :class:`PreparedQuery`: a select. :meth:`PreparedQuery.rows` gives the rows as the driver
  returns them; :meth:`PreparedQuery.instances` makes them into model instances
  (``Model.raw``: each column converted by its field, as the select itself would).
- :class:`LockedRow`: a model's row read by its key and locked for the transaction, what a
  change of one row decides on.
- :class:`PreparedWrite`: an INSERT, UPDATE or DELETE; :meth:`PreparedWrite.execute` answers
  the rows it changed. :func:`insert_of` makes one that inserts rows of given columns.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Generic, TypeVar, cast

import peewee

from pasar_kit.database import for_update

ModelT = TypeVar("ModelT", bound=peewee.Model)

# The most shapes one query keeps (IN lists of every length up to a page, and a few more).
MAX_SHAPES = 256

Shape = tuple[Any, ...]  # the database's class, then each argument's length or truth
Converter = Callable[[Any], Any] | None
# Where each parameter comes from: (argument, item, the field's conversion) of the call, or
# (-1, the constant, None).
Slots = tuple[tuple[int, Any, Converter], ...]

_MARK = "\x00"


def placeholder(argument: int, item: int = -1) -> str:
    return f"{_MARK}{argument}.{item}{_MARK}"


class _Statements:
    """The SQL of a query built by build(*arguments), made once per shape, and bound.

    every_value: each argument is a value to bind, whatever it is (a write's); otherwise a
    falsy argument is handed to build as it is, to leave its filter out (a select's)."""

    def __init__(
        self, database: peewee.DatabaseProxy, build: Callable[..., peewee.Query], *, every_value: bool
    ) -> None:
        self.database = database
        self.build = build
        self.every_value = every_value
        self._statements: dict[Shape, tuple[str, Slots]] = {}
        self._lock = threading.Lock()

    def bound(self, arguments: Sequence[Any]) -> tuple[str, list[Any]]:
        # The dialect is part of the shape: a process's tests move the proxy between databases.
        dialect = type(self.database.obj)
        if self.every_value:
            shape: Shape = (dialect, *(len(value) if isinstance(value, tuple) else -1 for value in arguments))
        else:
            shape = (
                dialect,
                *(len(value) if isinstance(value, tuple) else bool(value) for value in arguments),
            )
        statement = self._statements.get(shape)
        if statement is None:
            statement = self._prepare(shape, arguments)
        sql, slots = statement
        params = []
        for argument, constant_or_item, converter in slots:
            if argument < 0:
                params.append(constant_or_item)
                continue
            value = arguments[argument]
            if constant_or_item >= 0:
                value = value[constant_or_item]
            params.append(value if converter is None else converter(value))
        return sql, params

    def _prepare(self, shape: Shape, arguments: Sequence[Any]) -> tuple[str, Slots]:
        placeholders = [
            tuple(placeholder(position, item) for item in range(len(value)))
            if isinstance(value, tuple)
            else (placeholder(position) if value or self.every_value else value)
            for position, value in enumerate(arguments)
        ]
        database = self.database.obj
        context = _Recorder(**database.get_context_options())
        parse: Any = context.parse  # peewee's own methods are untyped
        sql, params = parse(self.build(*placeholders))
        if _MARK in sql:
            raise ValueError("the query writes a value into its SQL text: it cannot be prepared")
        slots = tuple(_slot(position, param, context.converters) for position, param in enumerate(params))
        with self._lock:
            if len(self._statements) >= MAX_SHAPES:
                self._statements.clear()
            self._statements[shape] = (sql, slots)
        return sql, slots


class _Recorder(peewee.Context):
    """peewee's SQL context, but a placeholder is bound as it is, and the conversion peewee
    would have applied to it there (its field's db_value) is noted by the parameter's
    position, to apply to each call's value (one value may be compared with several fields)."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.converters: dict[int, Converter] = {}

    def value(self, value: Any, converter: Any = None, add_param: bool = True) -> Any:
        if not (isinstance(value, str) and value.startswith(_MARK) and value.endswith(_MARK)):
            return super().value(value, converter, add_param)
        chosen = (self.state.converter if converter is None else converter) or None
        parameters: list[Any] = cast(Any, self)._values  # peewee's parameters so far
        position = len(parameters)
        context = super().value(value, False, add_param)  # False: peewee's own "no conversion"
        if len(parameters) == position + 1:
            self.converters[position] = chosen
        return context


def _slot(position: int, param: Any, converters: Mapping[int, Converter]) -> tuple[int, Any, Converter]:
    if isinstance(param, str) and _MARK in param:
        if position not in converters:
            raise ValueError("the query changes a value it is given: it cannot be prepared")
        argument, item = param.strip(_MARK).split(".")
        return int(argument), int(item), converters[position]
    return -1, param, None


class PreparedQuery:
    """A select built by build(*arguments), its SQL made once per shape.

    build must use its string and integer arguments as values (compared, listed, limited),
    unchanged; a falsy argument may leave its filter out (the shape says which), and a
    tuple argument is a list of values (its length is part of the shape). A value build
    changes (a LIKE pattern made of it) is refused: use the query unprepared.
    """

    def __init__(self, database: peewee.DatabaseProxy, build: Callable[..., peewee.Query]) -> None:
        self.database = database
        self._statements = _Statements(database, build, every_value=False)
        # Each statement's columns as a model's fields (attribute, conversion), found once:
        # peewee's Model.raw finds them again at every query, three times the query's own
        # cost for a row of a dozen columns. None: columns that are not all the model's own.
        self._fields: dict[tuple[type[peewee.Model], str], tuple[tuple[str, Converter], ...] | None] = {}

    def rows(self, *arguments: Any) -> list[tuple[Any, ...]]:
        """The query's rows for these arguments, as the driver returns them."""
        sql, params = self._statements.bound(arguments)
        return list(self.database.execute_sql(sql, params).fetchall())  # PyMySQL's is a tuple

    def first(self, model: type[ModelT], *arguments: Any) -> ModelT | None:
        """The query's first row as an instance of model, or None when it has none (a query
        read for one row should limit itself to one)."""
        found = self.instances(model, *arguments)
        return found[0] if found else None

    def instances(self, model: type[ModelT], *arguments: Any) -> list[ModelT]:
        """The query's rows for these arguments as instances of model (the query selects
        model's columns), each column converted by its field, as Model.raw makes them."""
        sql, params = self._statements.bound(arguments)
        cursor = self.database.execute_sql(sql, params)
        key = (model, sql)
        if key not in self._fields:
            if len(self._fields) >= MAX_SHAPES:
                self._fields.clear()
            self._fields[key] = _model_fields(model, cursor.description)
        fields = self._fields[key]
        if fields is None:
            return list(peewee.ModelObjectCursorWrapper(cursor, model, [], model))
        made = []
        for row in cursor.fetchall():
            instance = model(
                __no_default__=1,
                **{
                    name: value if convert is None else convert(value)
                    for (name, convert), value in zip(fields, row, strict=True)
                },
            )
            cast(Any, instance)._dirty.clear()  # as read, like Model.raw's
            made.append(instance)
        return made


def _model_fields(
    model: type[peewee.Model], description: Sequence[Sequence[Any]]
) -> tuple[tuple[str, Converter], ...] | None:
    """Each column of a cursor's description as the model's field (its attribute's name, and
    its python_value when it converts), as peewee reads a raw query's columns; None when a
    column is not one of the model's fields, or comes twice."""
    fields: list[tuple[str, Converter]] = []
    for item in description:
        column = str(item[0])
        column = column[column.rfind(".") + 1 :].strip('()"`')
        field = model._meta.combined.get(column)
        if not isinstance(field, peewee.Field):
            return None
        fields.append((field.name, field.python_value if getattr(field, "_coerce", True) else None))
    if len({name for name, _ in fields}) != len(fields):
        return None
    return tuple(fields)


class LockedRow(Generic[ModelT]):
    """model's row by its primary key, locked until the transaction ends (``FOR UPDATE`` on
    MySQL; on SQLite atomic_write's write lock already serialises every writer).

    A change of one row conditional on its state reads it so first, decides on the row
    read, and writes by key alone, so every writer of the row takes its locks in one order.
    A conditional UPDATE or DELETE does not: MariaDB may plan it through an index of the
    condition's columns and lock that index's entry before the row, the opposite order to a
    writer that holds the row and changes that entry, and one of the two dies in a deadlock.
    """

    def __init__(self, database: peewee.DatabaseProxy, model: type[ModelT]) -> None:
        self.model = model
        key_field = model._meta.primary_key
        self._query = PreparedQuery(
            database, lambda key: for_update(model.select().where(key_field == key).limit(1), database.obj)
        )

    def __call__(self, key: Any) -> ModelT | None:
        """The row of key, locked; None when there is none."""
        return self._query.first(self.model, key)


class PreparedWrite:
    """An INSERT, UPDATE or DELETE built by build(*arguments), its SQL made once per shape.

    Every argument is a value, whatever it is (None and other falsy ones too), converted
    at each call by the field peewee would have converted it with; a tuple argument is a
    list of values (its length is part of the shape). build must not decide on a value
    (``field == None`` is an ``IS NULL`` peewee writes only when it sees the None); a value
    build changes is refused, as by PreparedQuery.
    """

    def __init__(self, database: peewee.DatabaseProxy, build: Callable[..., peewee.Query]) -> None:
        self.database = database
        self._statements = _Statements(database, build, every_value=True)

    def execute(self, *arguments: Any) -> int:
        """Runs the statement with these arguments; the rows it changed."""
        sql, params = self._statements.bound(arguments)
        cursor = self.database.execute_sql(sql, params)
        changed: int = self.database.rows_affected(cursor)
        return changed


def insert_of(
    database: peewee.DatabaseProxy,
    model: type[peewee.Model],
    columns: Sequence[str],
    *,
    ignore_conflicts: bool = False,
) -> PreparedInsert:
    """Inserts of rows of model that give these columns (ignore_conflicts: INSERT that
    skips a row a unique key already holds, peewee's on_conflict_ignore)."""
    return PreparedInsert(database, model, columns, ignore_conflicts=ignore_conflicts)


class PreparedInsert:
    """Inserts rows of model, each a mapping of exactly the given column names, in one
    statement per number of rows. Columns left out take their fields' defaults, which must
    therefore be constants (a default made by a call would be made once, for every row)."""

    def __init__(
        self,
        database: peewee.DatabaseProxy,
        model: type[peewee.Model],
        columns: Sequence[str],
        *,
        ignore_conflicts: bool = False,
    ) -> None:
        self.columns = tuple(columns)
        fields = model._meta.fields
        unknown = [name for name in self.columns if name not in fields]
        if unknown:
            raise ValueError(f"{model.__name__} has no fields {unknown}")
        made = [field.name for field, default in model._meta.defaults.items() if callable(default)]
        left_out = [name for name in made if name not in self.columns]
        if left_out:
            raise ValueError(f"the defaults of {left_out} are made by a call: give those columns")

        def build(*values_by_column: tuple[Any, ...]) -> peewee.Query:
            rows = [dict(zip(self.columns, row, strict=True)) for row in zip(*values_by_column, strict=True)]
            insert = model.insert_many(rows)
            return insert.on_conflict_ignore() if ignore_conflicts else insert

        self._write = PreparedWrite(database, build)

    def execute(self, *rows: Mapping[str, Any]) -> int:
        """Inserts these rows (at least one); the rows inserted."""
        if not rows:
            raise ValueError("no rows to insert")
        for row in rows:
            if row.keys() != set(self.columns):
                raise ValueError(f"a row gives {sorted(row)}, not the columns {sorted(self.columns)}")
        return self._write.execute(*(tuple(row[name] for row in rows) for name in self.columns))
