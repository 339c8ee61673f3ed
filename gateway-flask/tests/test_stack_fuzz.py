"""Schemathesis against the gateway's own OpenAPI document, with the real services behind it.

Every operation gets generated requests, valid and invalid: none may answer a 5xx (with every
service up, not even a 503), and every answer must match the document (status, content type,
headers, body schema). Bounded: PASAR_FUZZ_EXAMPLES examples per operation (15 by default;
set it higher, say 500, for a long run).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from stack_support import ADMIN, Shop, running_shop

from pasar_gateway.bindings import contract_bindings
from pasar_gateway.openapi import openapi_document

EXAMPLES = int(os.environ.get("PASAR_FUZZ_EXAMPLES", "15"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]

schema = schemathesis.openapi.from_dict(openapi_document(contract_bindings()))
schema.config.generation.update(max_examples=EXAMPLES)


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shop]:
    yield from running_shop(
        tmp_path_factory.mktemp("stack"),
        {"PASAR_ORDER_RATE_LIMIT": "off", "PASAR_ORDER_LOOKUP_RATE_LIMIT": "off"},
    )


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
def test_generated_requests_never_break_the_gateway(case: schemathesis.Case[Any], shop: Shop) -> None:
    headers = ADMIN if case.path.startswith("/api/v1/admin/") else None
    case.call_and_validate(base_url=shop.url, headers=headers, checks=CHECKS, timeout=30)
