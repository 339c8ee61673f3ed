"""pasar_kit.payment_instructions: a payment's instructions as a message of their own, and back."""

from __future__ import annotations

import pytest
from conftest import RunningService, create_payment
from google.protobuf.descriptor import FieldDescriptor

from pasar.payment.v1 import payment_pb2
from pasar_kit.payment_instructions import payment_instructions, with_instructions


def test_both_oneofs_name_the_same_kinds_with_the_same_messages() -> None:
    """The copy goes by field name: a kind added to one message only would be lost."""
    [payment_oneof] = payment_pb2.Payment.DESCRIPTOR.oneofs
    [instructions_oneof] = payment_pb2.PaymentInstructions.DESCRIPTOR.oneofs
    kinds = {field.name: message_name(field) for field in payment_oneof.fields}
    assert kinds == {field.name: message_name(field) for field in instructions_oneof.fields}


def message_name(field: FieldDescriptor) -> str:
    assert field.message_type is not None, field.full_name
    return str(field.message_type.full_name)


@pytest.mark.parametrize(
    ("channel_code", "kind"),
    [("bca_va", "virtual_account"), ("qris", "qris"), ("ovo", "ewallet"), ("alfamart", "retail_outlet")],
)
def test_a_payment_s_instructions_are_copied_whole(
    service: RunningService, channel_code: str, kind: str
) -> None:
    payment = create_payment(service.stub, channel_code=channel_code, amount=20_000)
    instructions = payment_instructions(payment)
    assert instructions.WhichOneof("kind") == kind
    assert getattr(instructions, kind) == getattr(payment, kind)
    stripped = payment_pb2.Payment()
    stripped.CopyFrom(payment)
    stripped.ClearField("instructions")
    assert with_instructions(stripped, instructions) == payment


def test_a_payment_without_instructions_gives_an_empty_message() -> None:
    assert payment_instructions(payment_pb2.Payment(id="pay_1")) == payment_pb2.PaymentInstructions()
    payment = payment_pb2.Payment(qris=payment_pb2.QrisInstructions(qr_string="000201"))
    assert not with_instructions(payment, payment_pb2.PaymentInstructions()).HasField("qris")
