"""pasar_kit.prepared: SQL built once per shape answers and writes as peewee's own query does."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import peewee
import pytest

from pasar_kit import database as db
from pasar_kit.fields import UtcDateTimeField
from pasar_kit.prepared import LockedRow, PreparedQuery, PreparedWrite, insert_of

proxy = peewee.DatabaseProxy()


class Parcel(peewee.Model):
    """A column of each kind the services store, each converted by its field."""

    code = peewee.CharField(max_length=16, unique=True)
    note = peewee.CharField(max_length=32, null=True)
    weight = peewee.BigIntegerField()
    fragile = peewee.BooleanField(default=False)
    label = peewee.BlobField(null=True)
    sent_time = UtcDateTimeField()
    due_time = UtcDateTimeField(null=True)
    state = peewee.CharField(max_length=8, default="NEW")

    class Meta:
        database = proxy
        table_name = "parcels"


COLUMNS = ("code", "note", "weight", "fragile", "label", "sent_time", "due_time")
SENT = datetime(2026, 12, 5, 19, 30, 15, 123456, tzinfo=UTC)
JAKARTA = timezone(timedelta(hours=7))


@pytest.fixture
def database(database_url: str) -> Iterator[peewee.Database]:
    database = db.bind(proxy, database_url)
    with database.connection_context():
        database.create_tables([Parcel])
        yield database
    db.close_pool(database)


def stored(code: str) -> dict[str, Any]:
    row: dict[str, Any] = Parcel.get(Parcel.code == code).__data__
    row.pop("id")
    return row


def parcel(code: str, **values: Any) -> dict[str, Any]:
    return {
        "code": code,
        "note": "",
        "weight": 0,
        "fragile": False,
        "label": None,
        "sent_time": SENT,
        "due_time": None,
        **values,
    }


# Each a shape the last one shares (none of the arguments is a tuple), with other values,
# falsy ones among them: a write binds each as it is given, never the first call's.
ROWS = [
    parcel("a", note=None, weight=7, fragile=True, label=b"\x00\x01", due_time=SENT + timedelta(hours=1)),
    parcel("b"),
    parcel("c", note="", weight=2**40, label=b"", due_time=SENT.astimezone(JAKARTA)),
]


def test_inserted_rows_are_stored_as_peewees_insert_stores_them(database: peewee.Database) -> None:
    insert = insert_of(proxy, Parcel, COLUMNS)
    for row in ROWS:
        assert insert.execute(row) == 1
        Parcel.insert({**row, "code": "x" + row["code"]}).execute()
        assert stored(row["code"]) == {**stored("x" + row["code"]), "code": row["code"]}
    assert stored("b")["note"] == ""
    assert stored("a")["note"] is None
    assert stored("c")["due_time"] == SENT
    assert stored("a")["state"] == "NEW"


def test_several_rows_go_in_one_statement_per_count(database: peewee.Database) -> None:
    insert = insert_of(proxy, Parcel, COLUMNS)
    assert insert.execute(*ROWS) == 3
    assert insert.execute(parcel("d"), parcel("e", weight=5)) == 2
    assert [parcel.weight for parcel in Parcel.select().order_by(Parcel.code)] == [7, 0, 2**40, 0, 5]


def test_a_conflicting_row_is_skipped_when_asked(database: peewee.Database) -> None:
    insert_of(proxy, Parcel, COLUMNS).execute(ROWS[0])
    skipping = insert_of(proxy, Parcel, COLUMNS, ignore_conflicts=True)
    assert skipping.execute(parcel("a", weight=99)) == 0
    assert stored("a")["weight"] == 7
    with pytest.raises(peewee.IntegrityError):
        insert_of(proxy, Parcel, COLUMNS).execute(ROWS[0])


def test_updates_change_the_rows_peewees_update_changes(database: peewee.Database) -> None:
    insert_of(proxy, Parcel, COLUMNS).execute(*ROWS)
    overdue = PreparedWrite(
        proxy,
        lambda state, note, now: Parcel.update(state=state, note=note, due_time=None).where(
            (Parcel.due_time < now) & (Parcel.state == "NEW")
        ),
    )
    # Compared as UtcDateTimeField stores it: a time given in another zone is the same instant.
    assert overdue.execute("LATE", None, SENT.astimezone(JAKARTA) + timedelta(seconds=1)) == 1
    assert stored("c")["state"] == "LATE"
    assert stored("c")["due_time"] is None
    assert overdue.execute("LATE", "", SENT + timedelta(days=1)) == 1
    assert stored("a")["note"] == ""
    assert overdue.execute("LATE", "", SENT + timedelta(days=1)) == 0


def test_a_tuple_is_a_list_of_values(database: peewee.Database) -> None:
    insert_of(proxy, Parcel, COLUMNS).execute(*ROWS)
    mark = PreparedWrite(proxy, lambda state, codes: Parcel.update(state=state).where(Parcel.code.in_(codes)))
    assert mark.execute("SEEN", ("a", "c")) == 2
    assert mark.execute("GONE", ("b",)) == 1
    read = PreparedQuery(
        proxy, lambda codes: Parcel.select(Parcel.code, Parcel.state).where(Parcel.code.in_(codes))
    )
    assert sorted(read.rows(("a", "b", "c"))) == [("a", "SEEN"), ("b", "GONE"), ("c", "SEEN")]


def test_the_sql_is_built_once_per_shape(database: peewee.Database, monkeypatch: pytest.MonkeyPatch) -> None:
    insert = insert_of(proxy, Parcel, COLUMNS)
    update = PreparedWrite(
        proxy, lambda weight, code: Parcel.update(weight=weight).where(Parcel.code == code)
    )
    insert.execute(ROWS[0])
    update.execute(1, "a")
    built: list[Any] = []
    for query in (peewee.Insert, peewee.Update):
        original: Callable[[Any, peewee.Context], Any] = query.__sql__

        def counted(self: Any, context: peewee.Context, original: Callable[..., Any] = original) -> Any:
            built.append(self)
            return original(self, context)

        monkeypatch.setattr(query, "__sql__", counted)
    insert.execute(ROWS[1])
    assert update.execute(3, "b") == 1
    assert built == []
    insert.execute(ROWS[2], parcel("d"))  # two rows: another shape
    assert len(built) == 1


def test_what_cannot_be_prepared_is_refused(database: peewee.Database) -> None:
    class Stamped(Parcel):
        made = peewee.CharField(default=lambda: datetime.now(UTC).isoformat())

    with pytest.raises(ValueError, match="made by a call"):
        insert_of(proxy, Stamped, COLUMNS)
    with pytest.raises(ValueError, match="no fields"):
        insert_of(proxy, Parcel, (*COLUMNS, "colour"))
    with pytest.raises(ValueError, match="not the columns"):
        insert_of(proxy, Parcel, COLUMNS).execute({"code": "z"})
    like = PreparedWrite(proxy, lambda word: Parcel.delete().where(Parcel.note.contains(word)))
    with pytest.raises(ValueError, match="changes a value"):
        like.execute("fragile")


def test_a_value_compared_with_two_fields_is_converted_for_each(database: peewee.Database) -> None:
    """The outboxes' claim compares one time with two columns (next attempt, lease)."""
    insert_of(proxy, Parcel, COLUMNS).execute(*ROWS)
    in_transit = PreparedQuery(
        proxy,
        lambda now: Parcel.select(Parcel.code).where(
            (Parcel.sent_time <= now) & (Parcel.due_time.is_null() | (Parcel.due_time > now))
        ),
    )
    half_an_hour_later = (SENT + timedelta(minutes=30)).astimezone(JAKARTA)
    assert sorted(in_transit.rows(half_an_hour_later)) == [("a",), ("b",)]
    assert sorted(in_transit.rows(SENT.astimezone(JAKARTA))) == [("a",), ("b",)]
    assert in_transit.rows(SENT - timedelta(seconds=1)) == []


def test_first_is_the_first_instance_or_none(database: peewee.Database) -> None:
    insert_of(proxy, Parcel, COLUMNS).execute(*ROWS)
    one = PreparedQuery(proxy, lambda code: Parcel.select().where(Parcel.code == code).limit(1))
    found = one.first(Parcel, "b")
    assert found is not None
    assert found.__data__ == one.instances(Parcel, "b")[0].__data__
    assert found.code == "b"
    assert one.first(Parcel, "none") is None


def test_instances_are_the_ones_model_raw_makes(database: peewee.Database) -> None:
    """Each column converted by its field, nothing left dirty; a column that is not one of
    the model's fields (a computed one) is read as peewee reads it."""
    insert_of(proxy, Parcel, COLUMNS).execute(*ROWS)
    everything = PreparedQuery(proxy, lambda weight: Parcel.select().where(Parcel.weight >= weight))
    for _ in range(2):  # the columns found, then known
        made = everything.instances(Parcel, 0)
        sql, params = Parcel.select().where(Parcel.weight >= 0).sql()
        expected = list(Parcel.raw(sql, *params))
        assert [(parcel.__data__, parcel.dirty_fields) for parcel in made] == [
            (parcel.__data__, parcel.dirty_fields) for parcel in expected
        ]
    assert {parcel.code: parcel.sent_time for parcel in made} == dict.fromkeys("abc", SENT)
    counted = PreparedQuery(
        proxy,
        lambda code: Parcel.select(Parcel.code, (Parcel.weight + 1).alias("heavier")).where(
            Parcel.code == code
        ),
    )
    [parcel] = counted.instances(Parcel, "a")
    assert (parcel.code, vars(parcel)["heavier"]) == ("a", 8)


def test_a_locked_row_is_its_keys_row_read_for_update_on_mysql(
    database: peewee.Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """LockedRow reads the row of a primary key, FOR UPDATE on MySQL (SQLite has none: its
    writers are serialised by atomic_write); None for a key with no row."""
    insert_of(proxy, Parcel, COLUMNS).execute(*ROWS)
    key = Parcel.get(Parcel.code == "a").__data__["id"]
    statements: list[str] = []
    execute_sql: Callable[..., Any] = database.execute_sql

    def recorded(sql: str, params: Any = None) -> Any:
        statements.append(sql)
        return execute_sql(sql, params)

    monkeypatch.setattr(database, "execute_sql", recorded)
    locked = LockedRow(proxy, Parcel)
    with db.atomic_write(database):
        row = locked(key)
        assert locked(key + 100) is None
    assert row is not None
    assert (row.__data__["id"], row.code, row.weight) == (key, "a", 7)
    assert len(statements) == 2
    assert all(("FOR UPDATE" in sql) == db.is_mysql(database) for sql in statements), statements
