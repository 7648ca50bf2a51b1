"""Native Excel charts over the workbook's summary sheets (openpyxl charts).

Excel draws them from the sheet's own cells, so a lead who filters or edits
the summary sees the chart follow. Each series has an Okabe-Ito colour and a
fill pattern of its own, so the series can be told apart in black and white
and by colour-blind readers (docs/architecture.md §10).
"""

from __future__ import annotations

from typing import Any

from openpyxl.chart import BarChart, Reference
from openpyxl.drawing.fill import ColorChoice, PatternFillProperties
from openpyxl.utils import get_column_letter

from ..charts import STRAND_STYLES

# Preset patterns of DrawingML, one per series after the first (which is solid).
PATTERNS = ("", "wdUpDiag", "dkHorz", "smGrid", "wdDnDiag", "dkVert", "openDmnd")


def add_bar_chart(worksheet: Any, *, title: str, rows: int, series: tuple[int, int], category_column: int = 1,
                  value_title: str = "Findings") -> BarChart | None:
    """Add a horizontal clustered bar chart to the right of a table sheet whose
    header is row 1: one bar per data row (labelled from ``category_column``),
    one series per column from ``series[0]`` to ``series[1]`` (1-based,
    inclusive, titled by their headers). Nothing is added for a table without
    rows. Returns the chart."""
    if rows < 1:
        return None
    chart = BarChart()
    chart.type = "bar"
    chart.grouping = "clustered"
    chart.title = title
    chart.y_axis.title = value_title
    chart.x_axis.title = None
    # Excel's bar chart lists the first category at the bottom; reversed, it reads like the table.
    chart.x_axis.scaling.orientation = "maxMin"
    chart.height = max(7.5, 0.55 * rows * (series[1] - series[0] + 1) ** 0.5 + 3)
    chart.width = 18
    chart.add_data(Reference(worksheet, min_col=series[0], max_col=series[1], min_row=1, max_row=rows + 1),
                   titles_from_data=True)
    chart.set_categories(Reference(worksheet, min_col=category_column, min_row=2, max_row=rows + 1))
    for index, line in enumerate(chart.series):
        colour = STRAND_STYLES[index % len(STRAND_STYLES)][0].lstrip("#")
        pattern = PATTERNS[index % len(PATTERNS)]
        if pattern:
            line.graphicalProperties.pattFill = PatternFillProperties(
                prst=pattern, fgClr=ColorChoice(srgbClr=colour), bgClr=ColorChoice(srgbClr="FFFFFF"))
        else:
            line.graphicalProperties.solidFill = colour
        line.graphicalProperties.line.solidFill = colour
    worksheet.add_chart(chart, f"{get_column_letter(series[1] + 3)}2")
    return chart
