"""Pasar's order service: checkout, and the life of an order until it is paid or closed.

Checkout is a saga over two other services: the catalog holds the stock
(ProductService) and the payment service takes the money (PaymentService). The order
service owns the order, drives both steps, undoes them when a later one fails, follows
the payment's events to mark the order paid or closed, and sends the order's e-mails
through an outbox, so that a crash or an outage of any peer delays work but never loses it.
"""

from pasar_kit.deferred_imports import defer_mysql_rsa_support
from pasar_kit.memory import limit_malloc_arenas

# First of all: before peewee imports PyMySQL, which would import its RSA password exchange
# (cryptography), and before any thread allocates (gRPC's own threads take arenas early).
defer_mysql_rsa_support()
limit_malloc_arenas()
