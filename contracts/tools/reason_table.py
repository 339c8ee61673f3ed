"""The README's table of ``ErrorInfo.reason`` values, written from the ErrorReason enums.

The enums (``pasar/*/v1/error_reason.proto``) are the one place a reason is defined; the
first paragraph of each value's comment says what the table shows, in one shape:
``CODE: when it is sent. Metadata: the keys.`` (or ``... No metadata.``), where CODE is
a gRPC status code, optionally followed by a qualification in parentheses.
``scripts/contracts generate`` rewrites the table between the two marker comments in
contracts/README.md, and ``check`` fails when the table differs from the enums.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from google.protobuf import descriptor_pb2
from toolchain import ContractsError

BEGIN = "<!-- BEGIN error reasons: written by `scripts/contracts generate` from the ErrorReason enums -->"
END = "<!-- END error reasons -->"
ENUM_NAME = "ErrorReason"
# The first rows are the shared reasons; each service's follow, in the order a checkout
# meets them.
SERVICE_ORDER = ("any", "product", "payment", "order")

_COMMENT = re.compile(
    r"^(?P<code>[A-Z][A-Z_]*(?: \([^)]*\))?): (?P<when>.+?)"
    r"(?: Metadata: (?P<metadata>.+?)\.?| No metadata\.)$"
)
# FileDescriptorProto.enum_type = 5, EnumDescriptorProto.value = 2 (descriptor.proto).
_ENUM_TYPE_FIELD = 5
_ENUM_VALUE_FIELD = 2


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


def first_paragraph(comment: str) -> str:
    """A source comment's first paragraph as one line."""
    paragraph: list[str] = []
    for line in comment.splitlines():
        if not line.strip():
            if paragraph:
                break
            continue
        paragraph.append(line.strip())
    return " ".join(paragraph)


def reasons(files: descriptor_pb2.FileDescriptorSet) -> list[Reason]:
    """Every ErrorReason value but the zero one, read from a descriptor set with source info."""
    found: list[Reason] = []
    for file in files.file:
        comments = {
            tuple(location.path): location.leading_comments for location in file.source_code_info.location
        }
        for enum_index, enum in enumerate(file.enum_type):
            if enum.name != ENUM_NAME:
                continue
            for value_index, value in enumerate(enum.value):
                if value.number == 0:
                    continue
                path = (_ENUM_TYPE_FIELD, enum_index, _ENUM_VALUE_FIELD, value_index)
                text = first_paragraph(comments.get(path, ""))
                match = _COMMENT.match(text)
                if match is None:
                    raise ContractsError(
                        f"{file.name}: the comment of {file.package}.{value.name} must start "
                        f"'CODE: when it is sent. Metadata: keys.' (or '... No metadata.'), "
                        f"not {text!r}"
                    )
                found.append(
                    Reason(
                        service=service_of(file.package),
                        name=value.name,
                        code=match["code"],
                        when=match["when"].rstrip("."),
                        metadata=match["metadata"] or "",
                    )
                )
    rank = {service: index for index, service in enumerate(SERVICE_ORDER)}
    return sorted(found, key=lambda reason: rank.get(reason.service, len(rank)))


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
