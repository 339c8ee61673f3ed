"""The README's install-and-use blocks, found by the marker comment before each fence.

``<!-- tested: LANG FILE -->`` before a fenced block: the file FILE of LANG's scratch
project. ``<!-- tested: LANG run -->``: the shell commands run there, as written, with
only ARTIFACTS_PLACEHOLDER replaced by the folder ``scripts/contracts package`` wrote.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

ARTIFACTS_PLACEHOLDER = "/path/to/pasar-artifacts"
RUN = "run"
_BLOCK = re.compile(
    r"^<!-- tested: (?P<lang>\S+) (?P<name>\S+) -->\n```[\w-]*\n(?P<body>.*?)^```$", re.MULTILINE | re.DOTALL
)


@dataclass
class Project:
    """One language's scratch project: the files to write, then the commands to run."""

    files: dict[str, str] = field(default_factory=dict)
    commands: str = ""

    def write(self, directory: Path) -> None:
        for name, text in self.files.items():
            (directory / name).write_text(text)

    def script(self, artifacts: Path) -> str:
        return self.commands.replace(ARTIFACTS_PLACEHOLDER, str(artifacts))


def projects(readme: str) -> dict[str, Project]:
    """Every marked block of the README, grouped by language."""
    found: dict[str, Project] = {}
    for block in _BLOCK.finditer(readme):
        project = found.setdefault(block["lang"], Project())
        if block["name"] == RUN:
            assert not project.commands, f"two '{RUN}' blocks for {block['lang']}"
            project.commands = block["body"]
        else:
            project.files[block["name"]] = block["body"]
    return found
