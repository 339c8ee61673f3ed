"""PASAR_TEST_DEFECT: a test-only setting, refused in production and when it names no defect.

What each defect does to a service's answers is proved where it matters, by the conformance
kit failing against a service started with it (conformance/tests/test_defects_caught.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from unittest import mock

import grpc
import pytest
from google.protobuf import timestamp_pb2

from pasar.product.v1 import product_pb2, product_service_pb2
from pasar_kit.config import ConfigError, Env
from pasar_kit.defects import (
    DEFECTS,
    IDEMPOTENT_REPEAT_DIFFERS,
    REPEATED_PAGE_ITEM,
    VARIABLE,
    DefectInterceptor,
    defect_from_env,
    defect_interceptors,
)
from pasar_kit.server import ServerSettings


def test_without_the_setting_there_is_no_defect_and_no_interceptor() -> None:
    assert defect_from_env(Env({})) is None
    assert defect_interceptors(None) == []


@pytest.mark.parametrize("name", DEFECTS)
def test_each_defect_is_accepted_in_development_and_reaches_the_server_settings(name: str) -> None:
    env = Env({VARIABLE: name})
    assert defect_from_env(env) == name
    assert ServerSettings.from_env(env, "127.0.0.1:0").test_defect == name
    [interceptor] = defect_interceptors(name)
    assert isinstance(interceptor, DefectInterceptor)


def test_production_refuses_the_setting_naming_it() -> None:
    with pytest.raises(ConfigError, match=f"^{VARIABLE} must not be set when PASAR_ENV is 'production'"):
        ServerSettings.from_env(Env({VARIABLE: DEFECTS[0], "PASAR_ENV": "production"}), "127.0.0.1:50051")


def test_an_unknown_defect_is_refused_naming_the_known_ones() -> None:
    with pytest.raises(ConfigError, match=f"^{VARIABLE} must be one of {', '.join(DEFECTS)}, not 'typo'"):
        defect_from_env(Env({VARIABLE: "typo"}))


def _handler_call_details(method: str) -> grpc.HandlerCallDetails:
    details = mock.Mock(spec=grpc.HandlerCallDetails)
    details.method = method
    return details


def _serving(answer: Any) -> Callable[[grpc.HandlerCallDetails], grpc.RpcMethodHandler[Any, Any]]:
    """A continuation whose handler answers every call with the one message answer."""
    handler: grpc.RpcMethodHandler[Any, Any] = grpc.unary_unary_rpc_method_handler(
        lambda _request, _context: answer
    )
    return lambda _details: handler


def test_a_defect_spoils_its_own_calls_answer_never_the_one_a_service_shares() -> None:
    """svc-product hands one cached answer to many calls (and an idempotent method's repeat may
    be a kept answer too): a defect must change a copy."""
    shared_page = product_service_pb2.ListProductsResponse(
        products=[product_pb2.Product(id="p-1"), product_pb2.Product(id="p-2")], next_page_token="next"
    )
    shared_reservation = product_service_pb2.ReserveStockResponse(
        reservation=product_pb2.Reservation(create_time=timestamp_pb2.Timestamp(seconds=100))
    )
    answers = {"ListProducts": shared_page, "ReserveStock": shared_reservation}
    for defect, method, request, first, repeat in (
        (
            REPEATED_PAGE_ITEM,
            "ListProducts",
            product_service_pb2.ListProductsRequest(),
            product_service_pb2.ListProductsRequest(page_token="next"),
            lambda answer: [product.id for product in answer.products] == ["p-2", "p-1", "p-2"],
        ),
        (
            IDEMPOTENT_REPEAT_DIFFERS,
            "ReserveStock",
            product_service_pb2.ReserveStockRequest(order_id="o-1"),
            product_service_pb2.ReserveStockRequest(order_id="o-1"),
            lambda answer: answer.reservation.create_time.seconds == 101,
        ),
    ):
        shared = answers[method]
        kept = shared.SerializeToString()
        wrapped = DefectInterceptor(defect).intercept_service(
            _serving(shared), _handler_call_details(f"/pasar.product.v1.ProductService/{method}")
        )
        assert wrapped is not None
        assert wrapped.unary_unary is not None
        context = mock.Mock(spec=grpc.ServicerContext)
        wrapped.unary_unary(request, context)
        assert repeat(wrapped.unary_unary(first, context)), defect
        assert shared.SerializeToString() == kept, f"{defect} changed the shared answer"
