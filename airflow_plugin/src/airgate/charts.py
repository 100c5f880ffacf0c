"""Charts a DAG attaches to an approval's body: an SVG drawn from the figures, inlined as a Markdown image."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape

WIDTH = 480
ROW = 28
LABEL = 150


@dataclass(frozen=True)
class Bar:
    """
    One measured share and the threshold it is held to.

    :param label: What was measured.
    :param value: The measured share, 0 to 1.
    :param threshold: The share it must reach (or stay under, when ``at_most``); None for none.
    :param at_most: Whether the threshold is a ceiling rather than a floor.
    """

    label: str
    value: float
    threshold: float | None = None
    at_most: bool = False

    @property
    def passed(self) -> bool:
        if self.threshold is None:
            return True
        return self.value <= self.threshold if self.at_most else self.value >= self.threshold


def bar_chart_svg(title: str, bars: Sequence[Bar]) -> str:
    """Horizontal bars on a 0 to 100 % scale, green when the threshold is met and red when not, the threshold ticked."""
    scale = WIDTH - LABEL - 60
    height = 30 + ROW * len(bars)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" font-family="sans-serif"'
        ' font-size="12">',
        f"<title>{escape(title)}</title>",
        f'<text x="4" y="16" font-weight="bold">{escape(title)}</text>',
    ]
    for row, bar in enumerate(bars):
        y = 26 + row * ROW
        share = min(max(bar.value, 0.0), 1.0)
        colour = "#2f855a" if bar.passed else "#c53030"
        parts.append(f'<text x="4" y="{y + 14}">{escape(bar.label)}</text>')
        parts.append(f'<rect x="{LABEL}" y="{y + 2}" width="{scale}" height="16" fill="#edf2f7"/>')
        parts.append(
            f'<rect x="{LABEL}" y="{y + 2}" width="{share * scale:.1f}" height="16" fill="{colour}"/>'
        )
        if bar.threshold is not None:
            x = LABEL + min(max(bar.threshold, 0.0), 1.0) * scale
            parts.append(
                f'<line x1="{x:.1f}" y1="{y}" x2="{x:.1f}" y2="{y + 20}" stroke="#1a202c" stroke-width="2"/>'
            )
        parts.append(f'<text x="{LABEL + scale + 6}" y="{y + 14}">{bar.value:.1%}</text>')
    parts.append("</svg>")
    return "".join(parts)


def markdown_image(alt: str, svg: str) -> str:
    """``svg`` as a Markdown image with a base64 data URI, which the airgate UI shows inline."""
    encoded = base64.b64encode(svg.encode()).decode()
    return f"![{alt.replace('[', '(').replace(']', ')')}](data:image/svg+xml;base64,{encoded})"


def bar_chart(title: str, bars: Sequence[Bar]) -> str:
    """:func:`bar_chart_svg` as a Markdown image for an approval's body; ``title`` is its alt text too."""
    return markdown_image(title, bar_chart_svg(title, bars))
