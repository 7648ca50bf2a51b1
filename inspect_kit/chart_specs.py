"""Vega-Lite specifications for the charts of :mod:`inspect_kit.charts`.

One specification per chart, with its data inline: the intake pages embed it
as JSON for vega-embed to draw in the browser, and the draft report draws the
same specification to PNG with vl-convert (docs/architecture.md §10). Every
category has a shape (or a position, or a printed label) as well as a
colour-blind-safe colour (Okabe-Ito; a single-hue blue ramp for counts), so no
chart needs colour to be read. ``href`` fields make marks links where a chart
has somewhere to go; the table under each chart holds the same links for
keyboards and for pages without JavaScript.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from .charts import EVENT_KINDS, STRAND_STYLES, long_date

SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json"
TEXT = "#0b0c0c"   # GOV.UK text colour
SHADE = "#b1b4b6"  # GOV.UK mid grey: gaps in a timeline
EMPTY = "#f3f2f1"  # GOV.UK light grey: an empty coverage cell
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif"
CONFIG = {
    "font": FONT, "view": {"stroke": None},
    "axis": {"labelFontSize": 13, "titleFontSize": 14, "labelColor": TEXT, "titleColor": TEXT, "labelLimit": 260},
    "legend": {"labelFontSize": 13, "titleFontSize": 14, "labelColor": TEXT, "titleColor": TEXT, "orient": "top",
               "symbolSize": 140, "symbolStrokeColor": TEXT, "symbolStrokeWidth": 0.5},
    "title": {"fontSize": 16, "color": TEXT, "anchor": "start"},
}
DAY = {"type": "temporal", "axis": {"format": "%-d %b", "labelAngle": 0}}


def _spec(summary: str, **parts: Any) -> dict[str, Any]:
    # "description" becomes the chart's aria-label; "width": "container" fills the page's column.
    return {"$schema": SCHEMA, "description": summary, "width": "container", "config": CONFIG, **parts}


def timeline_spec(timeline: dict[str, Any], *, link_events: bool = True) -> dict[str, Any]:
    """A swimlane timeline: one lane per agency, one mark per event (shape and colour
    by kind), gaps longer than the threshold shaded. ``link_events`` makes each mark
    a link to the event in the list below the chart."""
    labels = [label for _flag, label, _shape, _colour in EVENT_KINDS]
    other = EVENT_KINDS[-1][1]
    marks = [{**mark, "description": f"{long_date(mark['date'])}, {mark['agency']}: {mark['event']}"
                                     + ("" if mark["kind"] == other else f" ({mark['kind']})"),
              **({"href": f"#event-{mark['id']}"} if link_events else {})} for mark in timeline["marks"]]
    events_layer: dict[str, Any] = {
        "name": "events",
        "data": {"values": marks},
        "mark": {"type": "point", "filled": True, "size": 120, "opacity": 0.9, "stroke": TEXT, "strokeWidth": 0.6},
        "encoding": {
            "x": {"field": "date", "title": "Date", **DAY},
            "y": {"field": "agency", "type": "nominal", "title": None, "sort": timeline["lanes"],
                  "axis": {"grid": True, "gridDash": [2, 3]}},
            "shape": {"field": "kind", "type": "nominal", "title": "Event",
                      "scale": {"domain": labels, "range": [shape for *_, shape, _c in EVENT_KINDS]}},
            "color": {"field": "kind", "type": "nominal", "title": "Event",
                      "scale": {"domain": labels, "range": [colour for *_, colour in EVENT_KINDS]}},
            "tooltip": [{"field": "date", "type": "temporal", "title": "Date", "format": "%-d %B %Y"},
                        {"field": "agency", "title": "Agency"}, {"field": "event", "title": "Event"},
                        {"field": "kind", "title": "Kind"}],
            "description": {"field": "description"},  # each mark's aria-label
        },
    }
    if link_events:
        events_layer["encoding"]["href"] = {"field": "href"}
    layers = []
    if timeline["gaps"]:
        layers.append({
            "name": "gaps",
            "data": {"values": [{**gap, "description": f"{gap['days']} days with no recorded contact, from "
                                                       f"{long_date(gap['start'])} to {long_date(gap['end'])}"}
                                for gap in timeline["gaps"]]},
            "mark": {"type": "rect", "color": SHADE, "opacity": 0.45},
            "encoding": {"x": {"field": "start", **DAY}, "x2": {"field": "end"},
                         "tooltip": [{"field": "days", "title": "Days without a recorded contact"}],
                         "description": {"field": "description"}},
        })
    layers.append(events_layer)
    return _spec(timeline["summary"], height=max(60, 34 * len(timeline["lanes"])), layer=layers)


def coverage_spec(coverage: dict[str, Any], cell_href: str | None = "/coverage/{strand}/{criterion}") -> dict[str, Any]:
    """A criterion × strand heatmap: the count printed in each cell ("none" in an
    empty one, which is pale grey), a blue ramp for the counts, each cell a link
    to its evidence (``cell_href`` formatted with the strand and criterion)."""
    peak = max((cell["findings"] for cell in coverage["cells"]), default=0)
    values = []
    for cell in coverage["cells"]:
        label = "none" if not cell["findings"] else f"{cell['findings']:,}" + (
            " (1 inspector)" if cell["cell"] == "single source" else "")
        value = {"criterion": cell["criterion"], "criterion_label": f"{cell['criterion']} {cell['criterion_title']}",
                 "strand": cell["strand"], "findings": cell["findings"], "cell": cell["cell"], "label": label,
                 "dark": bool(peak) and cell["findings"] > peak * 0.55,
                 "description": f"{cell['strand']} × {cell['criterion']} {cell['criterion_title']}: "
                                + ("no evidence" if not cell["findings"] else f"{label} findings")}
        if cell_href:
            value["href"] = cell_href.format(strand=quote(cell["strand"]), criterion=quote(cell["criterion"]))
        values.append(value)
    encoding: dict[str, Any] = {
        "x": {"field": "strand", "type": "nominal", "title": "Strand", "sort": [s["code"] for s in coverage["strands"]],
              "axis": {"orient": "top", "labelAngle": 0}},
        "y": {"field": "criterion_label", "type": "nominal", "title": None,
              "sort": [f"{c['code']} {c['title']}" for c in coverage["criteria"]]},
        "tooltip": [{"field": "criterion_label", "title": "Criterion"}, {"field": "strand", "title": "Strand"},
                    {"field": "findings", "title": "Findings"}, {"field": "cell", "title": "Cell"}],
        "description": {"field": "description"},
    }
    if cell_href:
        encoding["href"] = {"field": "href"}
    return _spec(coverage["summary"], height=max(60, 36 * len(coverage["criteria"])), data={"values": values},
                 encoding=encoding, layer=[
        {"name": "cells",
         "mark": {"type": "rect", "stroke": "#ffffff", "strokeWidth": 2, "cursor": "pointer" if cell_href else None},
         "encoding": {"color": {"condition": {"test": "datum.findings === 0", "value": EMPTY},
                                "field": "findings", "type": "quantitative", "title": "Findings",
                                "scale": {"scheme": "blues", "domainMin": 0}}}},
        {"name": "counts",
         "mark": {"type": "text", "fontSize": 13, "cursor": "pointer" if cell_href else None},
         "encoding": {"text": {"field": "label"},
                      "color": {"condition": {"test": "datum.dark", "value": "#ffffff"}, "value": TEXT}}},
    ])


def _strand_scale(strands: list[str]) -> dict[str, Any]:
    styles = [STRAND_STYLES[i % len(STRAND_STYLES)] for i in range(len(strands))]
    return {"color": {"domain": strands, "range": [colour for colour, _ in styles]},
            "shape": {"domain": strands, "range": [shape for _, shape in styles]}}


def evidence_by_day_spec(progress: dict[str, Any]) -> dict[str, Any]:
    """Each strand's running total of findings per day of collection (a line with a
    shape per strand), with the end of fieldwork and the draft deadline as rules."""
    scales = _strand_scale(progress["strands"])
    x = {"field": "day", "title": "Day collected", **DAY}
    layers: list[dict[str, Any]] = [{
        "data": {"values": progress["days"]},
        "mark": {"type": "line", "point": {"filled": True, "size": 70}, "strokeWidth": 2},
        "encoding": {
            "x": x,
            "y": {"field": "total", "type": "quantitative", "title": "Findings so far"},
            "color": {"field": "strand", "type": "nominal", "title": "Strand", "scale": scales["color"]},
            "shape": {"field": "strand", "type": "nominal", "title": "Strand", "scale": scales["shape"]},
            "strokeDash": {"field": "strand", "type": "nominal", "title": "Strand", "legend": None},
            "tooltip": [{"field": "day", "type": "temporal", "title": "Day", "format": "%-d %B %Y"},
                        {"field": "strand", "title": "Strand"}, {"field": "findings", "title": "That day"},
                        {"field": "total", "title": "So far"}],
        },
    }]
    milestones = [{"day": progress[key], "label": text} for key, text in
                  (("fieldwork_end", "Fieldwork ends"), ("draft_due", "Draft due")) if progress.get(key)]
    if milestones:
        layers.append({"data": {"values": milestones}, "layer": [
            {"mark": {"type": "rule", "color": TEXT, "strokeDash": [6, 4]}, "encoding": {"x": {"field": "day", **DAY}}},
            {"mark": {"type": "text", "align": "left", "dx": 4, "dy": -6, "baseline": "top", "color": TEXT,
                      "fontSize": 13, "y": 0},
             "encoding": {"x": {"field": "day", **DAY}, "text": {"field": "label"}}},
        ]})
    return _spec(progress["summary"], height=260, layer=layers)


def qa_ageing_spec(ageing: dict[str, Any]) -> dict[str, Any]:
    """Submitted records by whole days waiting: one bar per day, its count printed on it."""
    order = [age["days"] for age in ageing["ages"]]
    x = {"field": "days", "type": "ordinal", "sort": order, "title": "Days waiting since submission",
         "axis": {"labelAngle": 0}}
    return _spec(ageing["summary"], height=200, data={"values": ageing["ages"]}, layer=[
        {"mark": {"type": "bar", "color": "#0072B2"},
         "encoding": {"x": x, "y": {"field": "findings", "type": "quantitative", "title": "Records"},
                      "tooltip": [{"field": "days", "title": "Days waiting"}, {"field": "findings", "title": "Records"}]}},
        {"mark": {"type": "text", "dy": -8, "color": TEXT, "fontSize": 13},
         "encoding": {"x": x, "y": {"field": "findings", "type": "quantitative"}, "text": {"field": "findings"}}},
    ])


def balance_spec(rows: list[dict[str, Any]], summary: str) -> dict[str, Any]:
    """Strengths to the right of the axis, areas for improvement (with serious
    weaknesses) to the left: side, not colour, tells them apart."""
    values = []
    for row in rows:
        values.append({"name": row["name"], "side": "Strengths", "findings": row["strengths"] or 0,
                       "count": row["strengths"] or 0})
        values.append({"name": row["name"], "side": "Areas for improvement",
                       "findings": -(row["improvements"] or 0), "count": row["improvements"] or 0})
    return _spec(summary, height=max(60, 24 * len(rows)), data={"values": values}, mark={"type": "bar"},
                 encoding={
        "y": {"field": "name", "type": "nominal", "title": None, "sort": [row["name"] for row in rows]},
        "x": {"field": "findings", "type": "quantitative", "title": "← areas for improvement · strengths →",
              "axis": {"labelExpr": "abs(datum.value)"}},
        "color": {"field": "side", "type": "nominal", "title": None,
                  "scale": {"domain": ["Strengths", "Areas for improvement"], "range": ["#009E73", "#D55E00"]}},
        "tooltip": [{"field": "name", "title": "Name"}, {"field": "side", "title": "Side"},
                    {"field": "count", "title": "Findings"}],
    })
