"""Update masks: an empty mask means every allowed field; anything else must be allowed."""

from __future__ import annotations

import pytest
from google.protobuf import field_mask_pb2

from pasar_kit.errors import InvalidArgument
from pasar_product.catalog_admin import PACKAGE_UPDATABLE_FIELDS, PRODUCT_UPDATABLE_FIELDS
from pasar_product.field_masks import fields_to_update


def mask(*paths: str) -> field_mask_pb2.FieldMask:
    return field_mask_pb2.FieldMask(paths=list(paths))


def test_an_empty_mask_means_every_field_the_method_allows() -> None:
    assert fields_to_update(mask(), PRODUCT_UPDATABLE_FIELDS) == list(PRODUCT_UPDATABLE_FIELDS)


def test_the_named_fields_are_changed_each_once() -> None:
    assert fields_to_update(mask("price", "stock_available", "price"), PACKAGE_UPDATABLE_FIELDS) == [
        "price",
        "stock_available",
    ]


@pytest.mark.parametrize("path", ["id", "state", "packages", "create_time", "price.amount", "colour", ""])
def test_a_field_that_cannot_be_changed_is_invalid_argument(path: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        fields_to_update(mask("display_name", path), PRODUCT_UPDATABLE_FIELDS)
    assert [field for field, _ in caught.value.field_violations] == ["update_mask"]
    assert repr(path) in caught.value.message
