"""Charts as PNG images for documents, drawn from the same Vega-Lite
specifications the browser draws (:mod:`inspect_kit.chart_specs`).

vl-convert (the Vega team's converter: Vega and Vega-Lite in an embedded
JavaScript engine, no browser) renders a spec without a page; its bundled
Vega 6.2 and Vega-Lite 6.4 are the versions ``make assets`` serves to the
browser, so a chart reads the same in the draft report as on screen
(docs/architecture.md §10). The first conversion in a process starts the
engine (about 0.8 s measured); later ones take tens of milliseconds.
"""

from __future__ import annotations

from typing import Any

WIDTH_PX = 640   # the chart's drawing width: a Word page's text width at 96 dpi
SCALE = 2        # drawn at twice that, so the image stays sharp in print


def png(spec: dict[str, Any], *, width: int = WIDTH_PX) -> bytes:
    """The chart of ``spec`` as PNG bytes, ``width`` CSS pixels wide (drawn at :data:`SCALE`).

    A spec sized to its container (``"width": "container"``, as the pages use)
    gets ``width``: a document has no container.

    :raises ValueError: vl-convert cannot draw the spec (its message says why).
    """
    import vl_convert  # imported on use: the engine is big and only documents need it

    sized = {**spec, "width": width if spec.get("width") in (None, "container") else spec["width"]}
    return vl_convert.vegalite_to_png(sized, scale=SCALE)
