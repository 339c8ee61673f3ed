"""Pasar's contracts as a Python distribution.

The generated modules live under ``pasar`` (one package per protobuf package, such as
``pasar.product.v1.product_service_pb2``) and ``buf.validate``. This module adds what code
generation cannot: the contract's version, and the descriptor set with source comments,
from which the gateway derives its routes and its OpenAPI document.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

from google.protobuf import descriptor_pb2

from pasar_contracts._version import __version__

__all__ = ["__version__", "file_descriptor_set"]


@cache
def file_descriptor_set() -> descriptor_pb2.FileDescriptorSet:
    """Every contract file and its imports, with source info (comments and locations)."""
    data = resources.files(__package__).joinpath("descriptor_set.binpb").read_bytes()
    return descriptor_pb2.FileDescriptorSet.FromString(data)
