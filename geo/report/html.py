"""The street report as one HTML file made with folium: a heading and the street's summary,
a Leaflet map (one choropleth layer per indicator, coloured against its target as on the
dashboard, and the issues heat map on H3 hexagons), and the table of grids that fall short.

It opens with no internet: no base tiles (the grids, communities and hexagons are the map),
folium's CDN scripts and styles replaced by Leaflet's own files from the project's npm
packages, inlined; the layer control stays open so it needs no icon image.
"""

from __future__ import annotations

import re
from datetime import datetime
from html import escape
from pathlib import Path
from typing import Any

import folium
import shapely
from branca.element import Element, Figure
from shapely.geometry import shape

AGAINST_TARGET = ["#d7191c", "#fdae61", "#fee08b", "#1a9850"]  # < 50 %, < 80 %, < 100 %, met
QUARTILES = ["#fff5eb", "#fdbe85", "#fd8d3c", "#d94701"]  # no target: by quartile
UNKNOWN = "#cccccc"
HEAT = ["#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026"]


def grade(value: float | None, target: float | None, at_most: bool, cuts: list[float]) -> str:
    """The colour of a value: against its target (the dashboard's classes), or by quartile
    when it has none; grey without a value."""
    if value is None:
        return UNKNOWN
    if target is None:
        return QUARTILES[sum(value > c for c in cuts)]
    if at_most:
        steps = [value <= target, value <= 1.2 * target, value <= 1.5 * target]
        return AGAINST_TARGET[3 - steps.index(True)] if any(steps) else AGAINST_TARGET[0]
    if target == 0 or value >= target:
        return AGAINST_TARGET[3]
    return AGAINST_TARGET[2 if value >= 0.8 * target else 1 if value >= 0.5 * target else 0]


def _cuts(values: list[float]) -> list[float]:
    ordered = sorted(values)
    if not ordered:
        return []
    return [ordered[min(len(ordered) - 1, int(q * len(ordered)))] for q in (0.25, 0.5, 0.75)]


def _fmt(v: Any) -> str:
    if v is None:
        return "—"
    if isinstance(v, float) and 0 < abs(v) < 1:
        return f"{v * 100:.1f}%"
    return f"{v:g}" if isinstance(v, float) else str(v)


def _inline_leaflet(m: folium.Map, leaflet_dist: Path) -> None:
    m.default_js = []
    m.default_css = []
    # its comments cite bug trackers by URL: dropped, so the file names no address at all
    css = re.sub(r"/\*.*?\*/", "", (leaflet_dist / "leaflet.css").read_text(encoding="utf-8"),
                 flags=re.DOTALL)
    js = (leaflet_dist / "leaflet.js").read_text(encoding="utf-8")
    _figure(m).header.add_child(Element(f"<style>{css}</style>\n<script>{js}</script>"),
                                name="leaflet_inline", index=0)


def _indicator_layer(coverage: dict[str, Any], key: str, show: bool) -> folium.FeatureGroup:
    info, target = coverage["indicators"][key], coverage["targets"][key]
    values = [f["properties"]["indicators"][key]["value"] for f in coverage["features"]]
    cuts = _cuts([v for v in values if v is not None])
    features = []
    for f in coverage["features"]:
        if f["geometry"] is None:
            continue
        p = f["properties"]
        judged = p["indicators"][key]
        features.append({"type": "Feature", "geometry": f["geometry"], "properties": {
            "name": p["name"], "value": _fmt(judged["value"]), "target": _fmt(judged["target"]),
            "colour": grade(judged["value"], target, info["at_most"], cuts),
            "short": judged["pass"] is False}})
    group = folium.FeatureGroup(name=info["name_zh"], show=show, overlay=True)
    folium.GeoJson(
        {"type": "FeatureCollection", "features": features},
        style_function=lambda f: {"fillColor": f["properties"]["colour"], "fillOpacity": 0.7,
                                  "color": "#b00020" if f["properties"]["short"] else "#555",
                                  "weight": 2 if f["properties"]["short"] else 0.8},
        tooltip=folium.GeoJsonTooltip(["name", "value", "target"], aliases=["网格", "值", "目标"]),
    ).add_to(group)
    return group


def _heat_layer(heat: dict[str, Any]) -> folium.FeatureGroup:
    top = max(1, heat["max"])
    group = folium.FeatureGroup(name=f"{heat['layer_zh']}热力（H3 {heat['res']}）", show=False)
    folium.GeoJson(
        {"type": "FeatureCollection", "features": heat["features"]},
        style_function=lambda f: {
            "fillColor": HEAT[min(len(HEAT) - 1, f["properties"]["count"] * len(HEAT) // (top + 1))],
            "fillOpacity": 0.75, "color": "#ffffff", "weight": 0.5},
        tooltip=folium.GeoJsonTooltip(["count"], aliases=["数量"]),
    ).add_to(group)
    return group


def _legend() -> str:
    items = "".join(f'<li><i style="background:{c}"></i>{label}</li>' for c, label in zip(
        [*AGAINST_TARGET[::-1], UNKNOWN],
        ["达标", "达到目标的 80–100%", "50–80%", "不足 50%", "无数据或隐去"], strict=True))
    return ('<div class="report legend"><b>图例（对照目标）</b><ul>' + items + "</ul>"
            "<small>红框：未达标网格；无目标的指标按四分位由浅到深。右上角切换指标与民情热力图层。"
            "</small></div>")


STYLE = """<style>
body { font-family: "WenQuanYi Zen Hei", "Noto Sans CJK SC", "PingFang SC", sans-serif;
       margin: 0; color: #222; }
.report { max-width: 1100px; margin: 0 auto; padding: 0 1rem 2rem; }
.report h1 { color: #8b1a1a; font-size: 1.4rem; margin: 1rem 0 .2rem; }
.report table { border-collapse: collapse; width: 100%; font-size: .85rem; margin: .4rem 0 1rem; }
.report th, .report td { border-bottom: 1px solid #ddd; padding: .2rem .4rem; text-align: left; }
.report td.num, .report th.num { text-align: right; }
.bad { color: #b00020; } .good { color: #1b7837; } .hint { color: #777; }
.folium-map { max-width: 1100px; margin: 0 auto; border: 1px solid #bbb; }
.legend { font-size: 12px; margin-top: .4rem; }
.legend ul { list-style: none; margin: .2rem 0; padding: 0; display: flex; gap: 1rem; }
.legend i { display: inline-block; width: 14px; height: 10px; margin-right: .4rem;
            border: 1px solid #666; }
</style>"""


def _summary_html(coverage: dict[str, Any], street: dict[str, str], generated: datetime) -> str:
    rows = "".join(
        f"<tr><td>{escape(s['name_zh'])}</td><td class='num'>{_target(coverage, k)}</td>"
        f"<td class='num good'>{s['pass']}</td>"
        f"<td class='num {'bad' if s['short'] else ''}'>{s['short']}</td>"
        f"<td class='num hint'>{s['unknown']}</td></tr>"
        for k, s in coverage["summary"].items())
    return (f"<div class='report'><h1>{escape(street['name'])}（{escape(street['code'])}）"
            f"网格工作报告</h1><p class='hint'>生成于 {generated:%Y-%m-%d %H:%M}，"
            f"共 {len(coverage['features'])} 个网格。人数少于 5 的数字按规定隐去。</p>"
            "<table><thead><tr><th>指标</th><th class='num'>目标</th><th class='num'>达标</th>"
            "<th class='num'>未达标</th><th class='num'>无数据</th></tr></thead>"
            f"<tbody>{rows}</tbody></table></div>")


def _target(coverage: dict[str, Any], key: str) -> str:
    target = coverage["targets"][key]
    if target is None:
        return "—"
    return f"{'≤' if coverage['indicators'][key]['at_most'] else '≥'} {_fmt(target)}"


def _short_html(coverage: dict[str, Any]) -> str:
    rows = []
    for key, info in coverage["indicators"].items():
        for f in coverage["features"]:
            judged = f["properties"]["indicators"][key]
            if judged["pass"] is False:
                rows.append(f"<tr><td>{escape(info['name_zh'])}</td>"
                            f"<td>{escape(f['properties']['name'])}</td>"
                            f"<td class='num'>{_fmt(judged['value'])}</td>"
                            f"<td class='num'>{_fmt(judged['target'])}</td></tr>")
    body = "".join(rows) or "<tr><td colspan='4' class='good'>全部达标或无数据</td></tr>"
    return ("<div class='report'><h2>未达标网格</h2><table><thead><tr><th>指标</th>"
            "<th>网格</th><th class='num'>值</th><th class='num'>目标</th></tr></thead>"
            f"<tbody>{body}</tbody></table></div>")


def street_report(street: dict[str, str], coverage: dict[str, Any], heat: dict[str, Any],
                  leaflet_dist: Path, generated: datetime) -> str:
    """The report's HTML text (see the module's docstring)."""
    m = folium.Map(tiles=None, control_scale=True, height="560px", width="100%",
                   attribution_control=False)
    _inline_leaflet(m, leaflet_dist)
    # shown first: the indicator with the most grids short of target
    first = max(coverage["summary"], key=lambda k: coverage["summary"][k]["short"], default=None)
    for key in coverage["indicators"]:
        _indicator_layer(coverage, key, show=key == first).add_to(m)
    _heat_layer(heat).add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    shapes = [shape(f["geometry"]) for f in coverage["features"] if f["geometry"]]
    if shapes:
        w, s, e, n = shapely.total_bounds(shapes).tolist()
        m.fit_bounds([[s, w], [n, e]])
    root = _figure(m)
    root.header.add_child(Element(STYLE), name="report_style")
    root.header.add_child(Element("<title>网格工作报告</title>"), name="report_title")
    root.html.add_child(Element(_summary_html(coverage, street, generated)), index=0)
    page = root.render()  # the map's own div comes last in the body: the rest goes after it
    head, body_end, tail = page.rpartition("</body>")
    return head + _legend() + _short_html(coverage) + body_end + tail


def _figure(m: folium.Map) -> Figure:
    root = m.get_root()
    assert isinstance(root, Figure)
    return root

