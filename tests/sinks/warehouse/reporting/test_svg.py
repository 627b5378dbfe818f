"""The SVG charts as markup: shapes proportional to the values, every label escaped."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from sinks.warehouse.reporting import svg

NS = {"s": "http://www.w3.org/2000/svg"}


def parse(markup: str) -> ET.Element:
    return ET.fromstring(markup)  # noqa: S314 (our own markup; it must be well-formed XML)


def bars(root: ET.Element) -> list[ET.Element]:
    return root.findall("s:g[@class='bar']/s:rect", NS)


POINTS = [
    svg.Point("Smith & Sons <Pty>", 400.0, "R 400.00"),
    svg.Point('Dealer "B"', 100.0, "R 100.00"),
    svg.Point("C", 200.0, "R 200.00"),
]


def test_vertical_bars_have_heights_proportional_to_the_values() -> None:
    root = parse(svg.bar_chart(POINTS, "Revenue <by> dealer", lambda v: f"{v:.0f}"))
    rects = bars(root)
    assert len(rects) == 3
    heights = [float(r.attrib["height"]) for r in rects]
    assert heights[0] > 0
    assert [h / heights[0] for h in heights] == pytest.approx([1, 0.25, 0.5], abs=0.01)
    bottoms = {round(float(r.attrib["y"]) + float(r.attrib["height"]), 1) for r in rects}
    assert len(bottoms) == 1  # one baseline


def test_horizontal_bars_have_widths_proportional_to_the_values() -> None:
    root = parse(svg.hbar_chart(POINTS, "Revenue by dealer"))
    widths = [float(r.attrib["width"]) for r in bars(root)]
    assert [w / widths[0] for w in widths] == pytest.approx([1, 0.25, 0.5], abs=0.01)


def test_labels_and_titles_are_escaped() -> None:
    markup = svg.hbar_chart(POINTS, "Revenue <by> dealer & co")
    assert "<Pty>" not in markup and "Smith & Sons" not in markup
    assert "Smith &amp; Sons &lt;Pty&gt;" in markup
    root = parse(markup)  # well-formed despite the & and < in the data
    texts = ["".join(t.itertext()) for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert "Smith & Sons <Pty>" in texts and 'Dealer "B"' in texts
    assert root.find("s:title", NS) is not None
    assert "".join(root.find("s:title", NS).itertext()) == "Revenue <by> dealer & co"  # type: ignore[union-attr]


def test_a_long_label_is_shortened_and_keeps_its_full_text_as_a_tooltip() -> None:
    name = "Orion Motors " + "Very " * 30 + "Long Name"
    root = parse(svg.hbar_chart([svg.Point(name, 1, "1")], "t", width=600))
    shown = ["".join(t.itertext()) for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert any(s.endswith("\u2026") and len(s) < len(name) for s in shown)
    tips = ["".join(t.itertext()) for t in root.iter("{http://www.w3.org/2000/svg}title")]
    assert f"{name}: 1" in tips


def test_line_chart_has_one_line_per_series_and_thins_crowded_x_labels() -> None:
    months = [f"M{i:02d} 2025" for i in range(36)]
    series = [svg.Series("Revenue", [float(i) for i in range(36)]), svg.Series("Avg", [1.0] * 36)]
    root = parse(svg.line_chart(months, series, "Trend", str, width=600))
    lines = root.findall("s:polyline", NS)
    assert len(lines) == 2
    assert all(len(p.attrib["points"].split()) == 36 for p in lines)
    ys = [float(xy.split(",")[1]) for xy in lines[0].attrib["points"].split()]
    assert ys == sorted(ys, reverse=True)  # rising values are drawn higher
    shown = {"".join(t.itertext()) for t in root.iter("{http://www.w3.org/2000/svg}text")}
    assert 3 < len(shown & set(months)) < 36


def test_share_bar_parts_fill_the_width_by_share() -> None:
    pts = [svg.Point("Completed", 3, "3"), svg.Point("Failed", 1, "1")]
    root = parse(svg.share_bar(pts, "Payments", width=808))
    widths = [float(r.attrib["width"]) for r in bars(root)]
    assert widths == pytest.approx([600, 200], abs=0.1)


def test_nice_ticks_cover_the_top_value_with_round_steps() -> None:
    assert svg.nice_ticks(38_800_338) == [0, 1e7, 2e7, 3e7, 4e7]
    assert svg.nice_ticks(0) == [0, 1]
    assert svg.nice_ticks(7.5)[-1] >= 7.5


def test_empty_charts_still_render() -> None:
    for markup in (
        svg.hbar_chart([], "t"),
        svg.bar_chart([], "t", str),
        svg.line_chart([], [], "t", str),
        svg.share_bar([], "t"),
    ):
        assert parse(markup).tag == "{http://www.w3.org/2000/svg}svg"
