"""The catalog's errors, each with the status code and ``ErrorInfo`` the contract names.

Callers branch on the reason, never on the message, so every error is built here from the
generated enum (``pasar.product.v1.ErrorReason``; its comments in
``contracts/proto/pasar/product/v1/error_reason.proto`` name each reason's status code and
metadata keys) rather than spelled out where it is raised. Errors without a reason of the
catalog's own (a field the contract's rules cannot check, a page token this service did
not issue) are built here too, so that one module shows everything the service answers
with; the kit answers the shared ones (DATABASE_UNAVAILABLE, CONTENTION, CALLER_*).
"""

from __future__ import annotations

from collections.abc import Sequence

from pasar.product.v1.error_reason_pb2 import ErrorReason
from pasar_kit import page_tokens
from pasar_kit.errors import (
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    Unauthenticated,
)


def category_not_found(category_id: str) -> FailedPrecondition:
    """A product would be put in a category that does not exist (CreateProduct, UpdateProduct)."""
    return FailedPrecondition(
        f"category {category_id!r} does not exist",
        reason=ErrorReason.Name(ErrorReason.CATEGORY_NOT_FOUND),
        metadata={"category_id": category_id},
    )


def product_not_found(product_id: str) -> NotFound:
    return NotFound(
        f"product {product_id!r} does not exist or was archived",
        reason=ErrorReason.Name(ErrorReason.PRODUCT_NOT_FOUND),
        metadata={"product_id": product_id},
    )


def package_not_found(package_id: str) -> NotFound:
    return NotFound(
        f"package {package_id!r} does not exist or its product was archived",
        reason=ErrorReason.Name(ErrorReason.PACKAGE_NOT_FOUND),
        metadata={"package_id": package_id},
    )


def category_exists(category_id: str) -> AlreadyExists:
    return AlreadyExists(
        f"category {category_id!r} already exists",
        reason=ErrorReason.Name(ErrorReason.CATEGORY_EXISTS),
        metadata={"category_id": category_id},
    )


def product_exists(product_id: str) -> AlreadyExists:
    return AlreadyExists(
        f"product {product_id!r} already exists",
        reason=ErrorReason.Name(ErrorReason.PRODUCT_EXISTS),
        metadata={"product_id": product_id},
    )


def package_exists(package_id: str) -> AlreadyExists:
    return AlreadyExists(
        f"package {package_id!r} already exists",
        reason=ErrorReason.Name(ErrorReason.PACKAGE_EXISTS),
        metadata={"package_id": package_id},
    )


def out_of_stock(package_id: str, requested: int, available: int) -> FailedPrecondition:
    return FailedPrecondition(
        f"package {package_id!r} has {available} units available, {requested} requested",
        reason=ErrorReason.Name(ErrorReason.OUT_OF_STOCK),
        metadata={"package_id": package_id, "requested": str(requested), "available": str(available)},
    )


def reservation_not_found(order_id: str) -> NotFound:
    return NotFound(
        f"order {order_id!r} has no stock reservation",
        reason=ErrorReason.Name(ErrorReason.RESERVATION_NOT_FOUND),
        metadata={"order_id": order_id},
    )


def reservation_committed(order_id: str) -> FailedPrecondition:
    return FailedPrecondition(
        f"the reservation of order {order_id!r} is committed: its units were sold",
        reason=ErrorReason.Name(ErrorReason.RESERVATION_COMMITTED),
        metadata={"order_id": order_id},
    )


def reservation_released(order_id: str) -> FailedPrecondition:
    return FailedPrecondition(
        f"the reservation of order {order_id!r} was released: its units went back to stock",
        reason=ErrorReason.Name(ErrorReason.RESERVATION_RELEASED),
        metadata={"order_id": order_id},
    )


def reservation_conflict(order_id: str) -> AlreadyExists:
    return AlreadyExists(
        f"order {order_id!r} already holds a reservation with other lines",
        reason=ErrorReason.Name(ErrorReason.RESERVATION_CONFLICT),
        metadata={"order_id": order_id},
    )


def admin_token_missing() -> Unauthenticated:
    return Unauthenticated(
        "this call needs the administrator's token as 'authorization: Bearer <token>' metadata",
        reason=ErrorReason.Name(ErrorReason.ADMIN_TOKEN_MISSING),
    )


def admin_token_invalid() -> PermissionDenied:
    return PermissionDenied(
        "the administrator's token is not valid", reason=ErrorReason.Name(ErrorReason.ADMIN_TOKEN_INVALID)
    )


def invalid_field(field: str, why: str) -> InvalidArgument:
    """A request field the contract's rules cannot express, such as an unknown update_mask path."""
    return InvalidArgument(f"invalid {field}: {why}", field_violations=[(field, why)])


def invalid_fields(problems: Sequence[tuple[str, str]]) -> InvalidArgument:
    """Several request fields the contract's rules cannot check, each named with its problem
    (the destination fields of a product: pasar_product.destination_fields)."""
    summary = "; ".join(f"{field}: {why}" for field, why in problems)
    return InvalidArgument(f"invalid {summary}", field_violations=list(problems))


def page_token_not_ours() -> InvalidArgument:
    """INVALID_PAGE_TOKEN (pasar.common.v1): a page token that decodes to no position of its list."""
    return page_tokens.invalid_page_token(page_tokens.NOT_OURS)
