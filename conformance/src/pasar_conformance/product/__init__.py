"""The conformance suite of ``pasar.product.v1``: ProductService and ProductAdminService.

Run it with ``scripts/conformance product --target HOST:PORT`` (or
``pytest --pyargs pasar_conformance.product --target HOST:PORT``).
"""
