"""The ErrorReason enums as their comments document them.

Each value of a ``pasar.*.v1.ErrorReason`` enum (but the zero one) opens its comment with
``CODE: when it is sent. Metadata: the keys.`` (or ``... No metadata.``), CODE being a
gRPC status code name, optionally qualified in parentheses. The contracts' README table,
the conformance kit's reason checks and the repository's reason-literal check all read
the reasons here, from the descriptor set with its source comments.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from google.protobuf import descriptor_pb2

ENUM_NAME = "ErrorReason"
# FileDescriptorProto.enum_type = 5, EnumDescriptorProto.value = 2 (descriptor.proto).
_ENUM_TYPE_FIELD = 5
_ENUM_VALUE_FIELD = 2
_COMMENT = re.compile(
    r"^(?P<code>[A-Z][A-Z_]*)(?: (?P<qualification>\([^)]*\)))?: (?P<when>.+?)"
    r"(?: Metadata: (?P<metadata>.+?)\.?| No metadata\.)$"
)
_METADATA_KEY = re.compile(r"`([a-z][a-z0-9_]*)`")


class ReasonCommentError(ValueError):
    """A reason's comment does not open with its status code, when it is sent and its metadata."""


@dataclass(frozen=True)
class DocumentedReason:
    """One reason: its wire name (the value's name), its package, and what its comment says."""

    package: str
    name: str
    code: str  # the status code's name, such as "NOT_FOUND"
    qualification: str  # "(...)" after the code, or ""
    when: str
    metadata: str  # the comment's metadata text, "" when it has none

    @property
    def metadata_keys(self) -> frozenset[str]:
        """The ErrorInfo.metadata keys the comment names (in backticks)."""
        return frozenset(_METADATA_KEY.findall(self.metadata))


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


def documented_reasons(files: descriptor_pb2.FileDescriptorSet) -> list[DocumentedReason]:
    """Every ErrorReason value of the pasar packages but the zero ones, in file and enum order."""
    found: list[DocumentedReason] = []
    for file in files.file:
        if not file.package.startswith("pasar."):
            continue
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
                    raise ReasonCommentError(
                        f"{file.name}: the comment of {file.package}.{value.name} must start "
                        f"'CODE: when it is sent. Metadata: keys.' (or '... No metadata.'), not {text!r}"
                    )
                found.append(
                    DocumentedReason(
                        package=file.package,
                        name=value.name,
                        code=match["code"],
                        qualification=match["qualification"] or "",
                        when=match["when"].rstrip("."),
                        metadata=match["metadata"] or "",
                    )
                )
    return found
