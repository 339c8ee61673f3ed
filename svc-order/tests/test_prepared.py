"""An order and its lines, read through SQL built once (pasar_kit.prepared): the very rows a select reads."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import peewee
import pytest
from conftest import RunningService, create_request

from pasar.order.v1 import order_service_pb2
from pasar_order.models import Order, OrderLine, lines_of_order_id, order_of_id


def place(service: RunningService) -> str:
    response: order_service_pb2.CreateOrderResponse = service.stub.CreateOrder(
        create_request(("pulsa-10k", 2), ("data-5gb", 1))
    )
    return response.order.id


def test_an_order_and_its_lines_are_read_as_a_select_reads_them(service: RunningService) -> None:
    """Every column converted by its field as peewee's select does (times, snapshots, flags)."""
    order_id = place(service)
    with service.database.connection_context():
        expected = Order.get_by_id(order_id)
        expected_lines = list(
            OrderLine.select().where(OrderLine.order == order_id).order_by(OrderLine.position)
        )
        for _ in range(2):  # the first read builds the SQL, the second reuses it
            order = order_of_id(order_id)
            lines = lines_of_order_id(order_id)
            assert order.__data__ == expected.__data__
            assert [line.__data__ for line in lines] == [line.__data__ for line in expected_lines]
    assert len(lines) == 2
    assert order.payment_snapshot
    assert order.create_time.tzinfo is not None


def test_an_unknown_order_is_not_found_and_has_no_lines(service: RunningService) -> None:
    with service.database.connection_context():
        with pytest.raises(peewee.DoesNotExist):
            order_of_id("ord_unknown")
        assert lines_of_order_id("ord_unknown") == []


def test_reads_build_no_sql_after_the_first(service: RunningService, monkeypatch: pytest.MonkeyPatch) -> None:
    """Building the SQL cost peewee three times running it: once per kind of database."""
    order_id = place(service)
    with service.database.connection_context():
        order_of_id(order_id)
        lines_of_order_id(order_id)
        built: list[Any] = []
        build: Callable[[peewee.Select, peewee.Context], Any] = peewee.Select.__sql__

        def counted(query: peewee.Select, context: peewee.Context) -> Any:
            if threading.current_thread() is threading.main_thread():  # not the service's own
                built.append(query)
            return build(query, context)

        monkeypatch.setattr(peewee.Select, "__sql__", counted)
        assert order_of_id(order_id).id == order_id
        assert len(lines_of_order_id(order_id)) == 2
    assert built == []
