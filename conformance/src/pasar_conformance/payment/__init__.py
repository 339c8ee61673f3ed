"""The conformance suite of ``pasar.payment.v1``: PaymentService.

Run it with ``scripts/conformance payment --target HOST:PORT`` (or
``pytest --pyargs pasar_conformance.payment --target HOST:PORT``).
"""
