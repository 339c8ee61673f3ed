"""Pasar's payment service: takes the money for orders.

It owns the payment channels a shopper can choose (bank virtual accounts, QRIS,
e-wallets, convenience stores), the payments opened through a payment provider (the
built-in sandbox in development), the provider's signed settlement notifications, the
refunds of paid payments, and the durable log of payment events that the order service
follows from its own cursor. A payment becomes PAID at most once, whatever the provider
repeats or retries, and its refunds never add up to more than its total.
"""

from pasar_kit.service_process import prepare_service_process

prepare_service_process()  # first of all (pasar_kit.service_process says why)
