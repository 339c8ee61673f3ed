"""axe-core inside a page: the serious and critical violations it finds, and every text
whose contrast is under 4.5:1.

axe-core is the npm package pinned in the repository's root package.json
(node_modules/axe-core/axe.min.js, installed by `npm ci`). Its source is evaluated in the
page through the DevTools protocol, which the storefront's Content-Security-Policy does not
govern (a <script> tag would be refused, rightly). The contrast of each text comes from
axe's own color-contrast measurements (its passes as well as its violations), so large
text, which WCAG AA lets pass at 3:1, is held to 4.5:1 too, as the shop decided.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypedDict

from playwright.sync_api import Page
from storefront_build import REPO

AXE_SOURCE = REPO / "node_modules" / "axe-core" / "axe.min.js"

#: The lowest contrast any text may have.
MIN_CONTRAST = 4.5

# Runs in the page: every rule (WCAG 2.x A and AA, best practices), then color-contrast alone
# for the measured ratio of every text it looked at. Only what the test reports comes back.
_RUN_AXE = """
async ([minContrast]) => {
  const everything = await axe.run(document, { resultTypes: ["violations"] });
  const serious = everything.violations
    .filter((violation) => violation.impact === "serious" || violation.impact === "critical")
    .map((violation) => ({
      rule: violation.id,
      impact: violation.impact,
      help: violation.help,
      nodes: violation.nodes.map((node) => ({
        target: node.target.join(" "),
        html: node.html.slice(0, 240),
      })),
    }));
  const contrast = await axe.run(document, { runOnly: ["color-contrast"] });
  const low = [];
  for (const group of [contrast.passes, contrast.violations, contrast.incomplete]) {
    for (const rule of group) {
      for (const node of rule.nodes) {
        for (const check of [...node.any, ...node.all, ...node.none]) {
          const ratio = check.data && check.data.contrastRatio;
          if (typeof ratio === "number" && ratio > 0 && ratio < minContrast) {
            low.push({ target: node.target.join(" "), ratio, html: node.html.slice(0, 240) });
          }
        }
      }
    }
  }
  return { serious, low };
}
"""


class _Node(TypedDict):
    target: str
    html: str


class _Violation(TypedDict):
    rule: str
    impact: str
    help: str
    nodes: list[_Node]


class _LowContrast(TypedDict):
    target: str
    ratio: float
    html: str


class _Results(TypedDict):
    serious: list[_Violation]
    low: list[_LowContrast]


@dataclass(frozen=True)
class AxeFindings:
    """What axe found on one page."""

    url: str
    serious: list[_Violation]
    low_contrast: list[_LowContrast]

    def report(self) -> str:
        """One line per element: the rule, its impact, the element (CSS path) and its HTML."""
        lines = [f"axe on {self.url}:"]
        for violation in self.serious:
            for node in violation["nodes"]:
                what = f"{violation['rule']} ({violation['impact']}: {violation['help']})"
                lines.append(f"  {what} at {node['target']}: {node['html']}")
        lines.extend(
            f"  contrast {text['ratio']:.2f}:1 < {MIN_CONTRAST}:1 at {text['target']}: {text['html']}"
            for text in self.low_contrast
        )
        return "\n".join(lines)

    @property
    def clean(self) -> bool:
        return not self.serious and not self.low_contrast


def check_accessibility(page: Page) -> AxeFindings:
    """Runs axe-core on the page as it is now."""
    if not AXE_SOURCE.is_file():
        raise RuntimeError(f"{AXE_SOURCE} is missing: run `npm ci` at the repository root")
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(AXE_SOURCE.read_text(encoding="utf-8"))
    results: _Results = page.evaluate(_RUN_AXE, [MIN_CONTRAST])
    # The same text measured by two checks is one finding.
    low = list({(text["target"], round(text["ratio"], 2)): text for text in results["low"]}.values())
    return AxeFindings(page.url, results["serious"], low)
