"""Charts for approval bodies: drawn from the figures, thresholds ticked, labels escaped, inlined as an image."""

from __future__ import annotations

import base64
import re
import xml.etree.ElementTree as ET

from airgate import Bar, bar_chart
from airgate.charts import LABEL, WIDTH, bar_chart_svg

SVG = "{http://www.w3.org/2000/svg}"


def test_bars_are_as_long_as_their_share_and_coloured_by_their_threshold():
    svg = ET.fromstring(
        bar_chart_svg(
            "Batch quality",
            [
                Bar("email_complete", 0.5, 0.99),
                Bar("volume_change", 0.1, 0.5, at_most=True),
                Bar("<id>", 1.0),
            ],
        )
    )
    scale = WIDTH - LABEL - 60
    filled = [r for r in svg.iter(f"{SVG}rect") if r.get("fill") != "#edf2f7"]
    assert [(float(r.get("width", "0")), r.get("fill")) for r in filled] == [
        (scale * 0.5, "#c53030"),  # 50 % against a 99 % floor fails
        (scale * 0.1, "#2f855a"),  # 10 % against a 50 % ceiling passes
        (float(scale), "#2f855a"),  # no threshold: nothing to fail
    ]
    ticks = [float(line.get("x1", "0")) for line in svg.iter(f"{SVG}line")]
    assert ticks == [LABEL + 0.99 * scale, LABEL + 0.5 * scale]
    texts = [t.text for t in svg.iter(f"{SVG}text")]
    assert texts[0] == "Batch quality" and "<id>" in texts and "50.0%" in texts


def test_the_chart_is_a_markdown_image_holding_the_svg():
    markdown = bar_chart("Quality [batch 7]", [Bar("amount_valid", 0.995, 0.995)])
    match = re.fullmatch(r"!\[(.*)\]\(data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)\)", markdown)
    assert match is not None
    assert match.group(1) == "Quality (batch 7)"  # a bracket would end the alt text early
    assert base64.b64decode(match.group(2)).decode().startswith("<svg ")
