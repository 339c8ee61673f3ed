"""The catalog's errors, each with the ``ErrorInfo`` reason and metadata the contract names.

Callers branch on the reason, never on the message (contracts/README.md lists them), so
every one is built here, in one place, rather than spelled out where it is raised.
"""

from __future__ import annotations

from pasar_kit.errors import (
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    Unauthenticated,
)


def category_not_found(category_id: str, *, as_precondition: bool = False) -> NotFound | FailedPrecondition:
    """An unknown category: NOT_FOUND, or FAILED_PRECONDITION when a product would refer to it."""
    error_class = FailedPrecondition if as_precondition else NotFound
    return error_class(
        f"category {category_id!r} does not exist",
        reason="CATEGORY_NOT_FOUND",
        metadata={"category_id": category_id},
    )


def product_not_found(product_id: str) -> NotFound:
    return NotFound(
        f"product {product_id!r} does not exist or was archived",
        reason="PRODUCT_NOT_FOUND",
        metadata={"product_id": product_id},
    )


def package_not_found(package_id: str) -> NotFound:
    return NotFound(
        f"package {package_id!r} does not exist or its product was archived",
        reason="PACKAGE_NOT_FOUND",
        metadata={"package_id": package_id},
    )


def category_exists(category_id: str) -> AlreadyExists:
    return AlreadyExists(
        f"category {category_id!r} already exists",
        reason="CATEGORY_EXISTS",
        metadata={"category_id": category_id},
    )


def product_exists(product_id: str) -> AlreadyExists:
    return AlreadyExists(
        f"product {product_id!r} already exists",
        reason="PRODUCT_EXISTS",
        metadata={"product_id": product_id},
    )


def package_exists(package_id: str) -> AlreadyExists:
    return AlreadyExists(
        f"package {package_id!r} already exists",
        reason="PACKAGE_EXISTS",
        metadata={"package_id": package_id},
    )


def out_of_stock(package_id: str, requested: int, available: int) -> FailedPrecondition:
    return FailedPrecondition(
        f"package {package_id!r} has {available} units available, {requested} requested",
        reason="OUT_OF_STOCK",
        metadata={"package_id": package_id, "requested": str(requested), "available": str(available)},
    )


def reservation_not_found(order_id: str) -> NotFound:
    return NotFound(
        f"order {order_id!r} has no stock reservation",
        reason="RESERVATION_NOT_FOUND",
        metadata={"order_id": order_id},
    )


def reservation_committed(order_id: str) -> FailedPrecondition:
    return FailedPrecondition(
        f"the reservation of order {order_id!r} is committed: its units were sold",
        reason="RESERVATION_COMMITTED",
        metadata={"order_id": order_id},
    )


def reservation_released(order_id: str) -> FailedPrecondition:
    return FailedPrecondition(
        f"the reservation of order {order_id!r} was released: its units went back to stock",
        reason="RESERVATION_RELEASED",
        metadata={"order_id": order_id},
    )


def reservation_conflict(order_id: str) -> AlreadyExists:
    return AlreadyExists(
        f"order {order_id!r} already holds a reservation with other lines",
        reason="RESERVATION_CONFLICT",
        metadata={"order_id": order_id},
    )


def invalid_field(field: str, why: str) -> InvalidArgument:
    """A request field the contract's rules cannot express, such as a price in another currency."""
    return InvalidArgument(f"invalid {field}: {why}", field_violations=[(field, why)])


def admin_token_missing() -> Unauthenticated:
    return Unauthenticated(
        "this call needs the administrator's token as 'authorization: Bearer <token>' metadata",
        reason="ADMIN_TOKEN_MISSING",
    )


def admin_token_invalid() -> PermissionDenied:
    return PermissionDenied("the administrator's token is not valid", reason="ADMIN_TOKEN_INVALID")
