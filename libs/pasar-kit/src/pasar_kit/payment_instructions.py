"""A payment's instructions as a message of their own (``pasar.payment.v1.PaymentInstructions``).

The payment service answers how to pay inside ``Payment`` (its ``instructions`` oneof); the
order service keeps a copy on the order (``Order.payment_instructions``) so that a pending
order still shows its account number or code while the payment service is down. Both
oneofs name their fields alike (``virtual_account``, ``qris``, ``ewallet``,
``retail_outlet``), and the copy goes by those names, so a kind added to both is copied
without a change here.
"""

from __future__ import annotations

from typing import Final

from pasar.payment.v1 import payment_pb2

_PAYMENT_ONEOF: Final = "instructions"
_INSTRUCTIONS_ONEOF: Final = "kind"


def payment_instructions(payment: payment_pb2.Payment) -> payment_pb2.PaymentInstructions:
    """How to pay the payment, as it was created; an empty message when it has no instructions."""
    instructions = payment_pb2.PaymentInstructions()
    kind = payment.WhichOneof(_PAYMENT_ONEOF)
    if kind is not None:
        getattr(instructions, kind).CopyFrom(getattr(payment, kind))
    return instructions


def with_instructions(
    payment: payment_pb2.Payment, instructions: payment_pb2.PaymentInstructions
) -> payment_pb2.Payment:
    """A copy of payment carrying instructions (the reverse of :func:`payment_instructions`):
    for showing a kept copy where a Payment is expected."""
    copy = payment_pb2.Payment()
    copy.CopyFrom(payment)
    kind = instructions.WhichOneof(_INSTRUCTIONS_ONEOF)
    if kind is None:
        copy.ClearField(_PAYMENT_ONEOF)
    else:
        getattr(copy, kind).CopyFrom(getattr(instructions, kind))
    return copy
