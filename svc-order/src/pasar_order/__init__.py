"""Pasar's order service: checkout, and the life of an order until it is paid or closed.

Checkout is a saga over two other services: the catalog holds the stock
(ProductService) and the payment service takes the money (PaymentService). The order
service owns the order, drives both steps, undoes them when a later one fails, follows
the payment's events to mark the order paid or closed, and sends the order's e-mails
through an outbox, so that a crash or an outage of any peer delays work but never loses it.
"""

from pasar_kit.service_process import prepare_service_process

prepare_service_process()  # first of all (pasar_kit.service_process says why)
