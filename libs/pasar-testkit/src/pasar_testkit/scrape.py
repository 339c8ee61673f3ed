"""A Prometheus scrape as a test reads it: the samples of a /metrics page, found by name and
labels (parsed by prometheus_client's own text parser, as Prometheus would read them)."""

from __future__ import annotations

import urllib.request
from dataclasses import dataclass

from prometheus_client.parser import text_string_to_metric_families


@dataclass(frozen=True)
class Sample:
    name: str
    labels: dict[str, str]
    value: float


class Scrape:
    """The samples of one /metrics page."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.samples = [
            Sample(sample.name, dict(sample.labels), float(sample.value))
            for family in text_string_to_metric_families(text)
            for sample in family.samples
        ]

    def find(self, name: str, **labels: str) -> list[Sample]:
        """The samples named name whose labels include labels."""
        return [
            sample
            for sample in self.samples
            if sample.name == name and all(sample.labels.get(key) == value for key, value in labels.items())
        ]

    def value(self, name: str, **labels: str) -> float | None:
        """The value of the one sample named name with labels; None if there is none,
        AssertionError if labels leave more than one."""
        found = self.find(name, **labels)
        assert len(found) <= 1, f"{len(found)} samples of {name} {labels}: {found}"
        return found[0].value if found else None


def scrape(url: str, timeout: float = 10.0) -> Scrape:
    """GETs url (a /metrics page) and parses it; HTTP errors raise."""
    with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - a test's own server
        return Scrape(response.read().decode())
