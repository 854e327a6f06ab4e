"""What the accessibility tests measure in the browser: axe-core, reflow and visible focus.

axe-core comes from npm (a devDependency in package.json) and is evaluated in the page through
the DevTools protocol, so the page keeps its Content-Security-Policy (no inline script).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from playwright.sync_api import Page

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]


@cache
def _axe_source() -> str:
    if not AXE.is_file():  # a missing checker must fail, never pass quietly
        raise AssertionError(f"{AXE} is missing: run `make vendor` (npm ci installs axe-core)")
    return AXE.read_text("utf-8")


def axe_problems(page: Page) -> list[str]:
    """Violations of the WCAG 2.0/2.1/2.2 A and AA rules, plus colour-contrast results axe
    left "to review" that it measured below the threshold (text painted in its background's
    colour lands there, not among the violations)."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(_axe_source())
    results: dict[str, Any] = page.evaluate(
        """async (tags) => {
            const results = await axe.run(document, {
                runOnly: {type: "tag", values: tags},
                resultTypes: ["violations", "incomplete"],
            });
            return {violations: results.violations, incomplete: results.incomplete};
        }""",
        WCAG_TAGS,
    )
    problems = [
        f"{v['id']} ({v['impact']}): {node['target']} {node['failureSummary']}"
        for v in results["violations"]
        for node in v["nodes"]
    ]
    for result in results["incomplete"]:
        if result["id"] != "color-contrast":
            continue
        for node in result["nodes"]:
            for check in node["any"]:
                data = check.get("data") or {}
                if not isinstance(data, dict):
                    continue
                ratio, wanted = data.get("contrastRatio"), data.get("expectedContrastRatio")
                same_colour = data.get("messageKey") == "equalRatio"
                measured_low = bool(ratio) and wanted and float(ratio) < _ratio(wanted)
                if same_colour or measured_low:
                    problems.append(
                        f"color-contrast (to review, measured {ratio}): {node['target']} "
                        f"{json.dumps(data, ensure_ascii=False)}"
                    )
    return problems


def _ratio(text: str) -> float:
    return float(str(text).split(":")[0])


def horizontal_overflow(page: Page) -> int:
    """How many CSS pixels the page is wider than its viewport (0: no sideways scrolling)."""
    return int(
        page.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
    )


FOCUS_REPORT = """() => {
    let element = document.activeElement;
    if (!element || element === document.body) return null;
    // The file input is transparent: its focus ring is drawn on its "Selecionar arquivos" label.
    if (element.classList.contains("upload-input")) element = element.nextElementSibling;
    const style = getComputedStyle(element);
    const parse = (colour) => {
        const m = colour.match(/rgba?\\(([^)]+)\\)/);
        if (!m) return null;
        const parts = m[1].split(",").map((p) => parseFloat(p));
        return {r: parts[0], g: parts[1], b: parts[2], a: parts.length > 3 ? parts[3] : 1};
    };
    let node = element.parentElement, background = null;
    while (node) {
        const colour = parse(getComputedStyle(node).backgroundColor);
        if (colour && colour.a > 0.5) { background = colour; break; }
        node = node.parentElement;
    }
    background = background || {r: 255, g: 255, b: 255, a: 1};
    const ring = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2
        ? parse(style.outlineColor) : null;
    const luminance = (c) => {
        const channel = (v) => {
            v /= 255;
            return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
        };
        return 0.2126 * channel(c.r) + 0.7152 * channel(c.g) + 0.0722 * channel(c.b);
    };
    let contrast = 0;
    if (ring) {
        const [a, b] = [luminance(ring), luminance(background)].sort((x, y) => y - x);
        contrast = (a + 0.05) / (b + 0.05);
    }
    return {
        tag: element.tagName.toLowerCase(),
        id: element.id,
        text: (element.innerText || element.value || "").trim().slice(0, 40),
        outline: style.outlineStyle + " " + style.outlineWidth + " " + style.outlineColor,
        contrast: Math.round(contrast * 100) / 100,
    };
}"""


def focus_report(page: Page) -> dict[str, Any] | None:
    """The focused element and the contrast of its focus ring against what is behind it."""
    return page.evaluate(FOCUS_REPORT)  # type: ignore[no-any-return]
