"""A small typed client of ProductService, checked with ``mypy --strict`` by
``scripts/contracts check``: it proves the generated stubs carry full types.

Run it against a running shop: ``python product_client.py 127.0.0.1:50051 pulsa-nusantara``.
"""

from __future__ import annotations

import sys

import grpc

from pasar.common.v1 import money_pb2
from pasar.product.v1 import product_pb2, product_service_pb2, product_service_pb2_grpc


def format_rupiah(money: money_pb2.Money) -> str:
    """Formats IDR the Indonesian way: "Rp 15.000"."""
    return "Rp " + f"{money.amount:,}".replace(",", ".")


def describe(product: product_pb2.Product) -> list[str]:
    """One line for the product, then one per package with its price and stock."""
    lines = [
        f"{product.display_name} ({format_rupiah(product.min_price)} – {format_rupiah(product.max_price)})"
    ]
    for package in product.packages:
        lines.append(
            f"  {package.id}: {package.display_name}, {format_rupiah(package.price)}, "
            f"stock {package.stock_available}"
        )
    return lines


def fetch_product(channel: grpc.Channel, product_id: str, timeout: float = 2.0) -> product_pb2.Product:
    """Reads one product; a missing product raises grpc.RpcError with NOT_FOUND."""
    stub = product_service_pb2_grpc.ProductServiceStub(channel)
    response: product_service_pb2.GetProductResponse = stub.GetProduct(
        product_service_pb2.GetProductRequest(id=product_id), timeout=timeout
    )
    return response.product


def main(argv: list[str]) -> int:
    address, product_id = argv[1], argv[2]
    with grpc.insecure_channel(address) as channel:
        try:
            product = fetch_product(channel, product_id)
        except grpc.RpcError as error:
            print(f"{error.code().name}: {error.details()}", file=sys.stderr)
            return 1
    print("\n".join(describe(product)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
