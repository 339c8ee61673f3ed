"""The README's table of ``ErrorInfo.reason`` values, written from the ErrorReason enums.

The enums (``pasar/*/v1/error_reason.proto``) are the one place a reason is defined; the
first paragraph of each value's comment says what the table shows, in one shape:
``CODE: when it is sent. Metadata: the keys.`` (or ``... No metadata.``), read by
:mod:`pasar_contracts.error_reasons`.
``scripts/contracts generate`` rewrites the table between the two marker comments in
contracts/README.md, and ``check`` fails when the table differs from the enums.
"""

from __future__ import annotations

from dataclasses import dataclass

from google.protobuf import descriptor_pb2
from toolchain import ContractsError

from pasar_contracts.error_reasons import ReasonCommentError, documented_reasons

BEGIN = "<!-- BEGIN error reasons: written by `scripts/contracts generate` from the ErrorReason enums -->"
END = "<!-- END error reasons -->"
# The first rows are the shared reasons; each service's follow, in the order a checkout
# meets them.
SERVICE_ORDER = ("any", "product", "payment", "order", "fulfillment")


@dataclass(frozen=True)
class Reason:
    service: str
    name: str
    code: str
    when: str
    metadata: str


def service_of(package: str) -> str:
    """``pasar.product.v1`` is the product service's; ``pasar.common.v1`` any service's."""
    name = package.split(".")[1] if package.count(".") >= 2 else package
    return "any" if name == "common" else name


def reasons(files: descriptor_pb2.FileDescriptorSet) -> list[Reason]:
    """Every ErrorReason value but the zero one, read from a descriptor set with source info."""
    try:
        documented = documented_reasons(files)
    except ReasonCommentError as error:
        raise ContractsError(str(error)) from None
    rows = [
        Reason(
            service=service_of(reason.package),
            name=reason.name,
            code=f"{reason.code} {reason.qualification}".strip(),
            when=reason.when,
            metadata=reason.metadata,
        )
        for reason in documented
    ]
    rank = {service: index for index, service in enumerate(SERVICE_ORDER)}
    return sorted(rows, key=lambda row: rank.get(row.service, len(rank)))


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def render(rows: list[Reason]) -> str:
    """The Markdown table, one row per reason."""
    lines = ["| service | reason | code | when | metadata |", "|---|---|---|---|---|"]
    lines += [
        f"| {row.service} | `{row.name}` | {_cell(row.code)} | {_cell(row.when)} | {_cell(row.metadata)} |"
        for row in rows
    ]
    return "\n".join(lines)


def with_table(readme: str, table: str) -> str:
    """The README with the text between the markers replaced by the table."""
    start, end = readme.find(BEGIN), readme.find(END)
    if start < 0 or end < start:
        raise ContractsError(f"contracts/README.md needs the markers\n  {BEGIN}\n  {END}\nin this order")
    return f"{readme[: start + len(BEGIN)]}\n{table}\n{readme[end:]}"
