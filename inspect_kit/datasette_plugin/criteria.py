"""Facets a view can afford, and a facet and a filter by criterion.

Facets over a view cannot use the tables' indexes: on 200,000 findings one
facet over ``findings_readable`` took 2.5 s (the findings table's three: 0.2
s together), and five of them hit the 3 s facet limit on every page at a
million. So the view's facets (``ik_column``, ``criterion``) count only when
the page lists at most :data:`FACET_ROWS` rows (a review's own findings, or a
search or filter narrowing a big store) and say nothing otherwise, and the
view's description says so.

``findings_readable`` holds each finding's criteria as one column of codes
separated by spaces (``"2.1 2.3"``): a plain column facet would count the
combinations, not the criteria. The ``criterion`` facet counts each code once
per finding, and ``?_criterion=2.1`` keeps the findings coded to it. The
parameter starts with ``_`` so that Datasette does not read it as a filter on
a column called ``criterion`` (there is none: "no such column").
"""

from __future__ import annotations

from datasette import hookimpl
from datasette.database import QueryInterrupted
from datasette.facets import ColumnFacet, Facet
from datasette.filters import FilterArguments
from datasette.utils import escape_sqlite, path_with_added_args, path_with_removed_args

PARAMETER = "_criterion"
COLUMN = "criteria"
# At ~12 µs a row per facet (measured above), 20,000 rows keep five facets near a second.
FACET_ROWS = 20_000


def affordable(row_count: int | None) -> bool:
    """Whether a page of ``row_count`` rows (None: not counted) may be faceted over a view."""
    return row_count is not None and row_count <= FACET_ROWS


class CappedColumnFacet(ColumnFacet):
    """Datasette's column facet, counted only on pages of at most :data:`FACET_ROWS` rows."""

    type = "ik_column"

    async def suggest(self):
        return []

    async def facet_results(self):
        if not affordable(self.row_count):
            return [], []
        return await super().facet_results()


def words_sql(sql: str, column: str, limit: int) -> str:
    """SQL counting each space-separated word of ``column`` over the rows of ``sql``
    (a word counted once per row), most frequent first."""
    col = escape_sqlite(column)
    return f"""
with recursive split(row_id, word, rest) as (
  select rowid_, '', {col} || ' ' from (select row_number() over () as rowid_, * from ({sql})) where {col} is not null
  union all
  select row_id, substr(rest, 1, instr(rest, ' ') - 1), substr(rest, instr(rest, ' ') + 1)
  from split where rest != ''
)
select word as value, count(distinct row_id) as count from split where word != ''
group by word order by count desc, value limit {limit}
"""


class CriterionFacet(Facet):
    """Counts of findings per criterion code, toggled with ``?_criterion=``."""

    type = "criterion"

    async def suggest(self):
        return []

    async def facet_results(self):
        results, timed_out = [], []
        if not affordable(self.row_count):
            return results, timed_out
        selected_now = self.request.args.getlist(PARAMETER)
        size = self.get_facet_size()
        for source_and_config in self.get_configs():
            config = source_and_config["config"]
            column = config.get("column") or config["simple"]
            try:
                rows = (await self.ds.execute(
                    self.database, words_sql(self.sql, column, size + 1), self.params, truncate=False,
                    custom_time_limit=self.ds.setting("facet_time_limit_ms"))).rows
            except QueryInterrupted:
                timed_out.append("criterion")
                continue
            values = []
            for row in rows[:size]:
                selected = row["value"] in selected_now
                toggle = (path_with_removed_args(self.request, {PARAMETER: row["value"]}) if selected
                          else path_with_added_args(self.request, {PARAMETER: row["value"]}))
                values.append({"value": row["value"], "label": row["value"], "count": row["count"],
                               "toggle_url": self.ds.absolute_url(self.request, self.ds.urls.path(toggle)),
                               "selected": selected})
            results.append({"name": "criterion", "type": self.type, "hideable": source_and_config["source"] != "metadata",
                            "toggle_url": self.ds.urls.path(self.request.path), "results": values,
                            "truncated": len(rows) > size})
        return results, timed_out


@hookimpl
def register_facet_classes():
    return [CappedColumnFacet, CriterionFacet]


# Not a hook of its own: the plugin registers one filters_from_request (in __init__.py),
# which asks this and the other filter and joins their clauses.
def filters_from_request(request, database, table, datasette):
    async def inner():
        wanted = request.args.getlist(PARAMETER)
        if not wanted or not table:
            return None
        if COLUMN not in await datasette.get_database(database).table_columns(table):
            return None
        clauses, params = [], {}
        for number, code in enumerate(wanted):
            name = f"ik_criterion_{number}"
            # instr, not LIKE: a code is matched as a whole word, with no wildcards.
            clauses.append(f"instr(' ' || {escape_sqlite(COLUMN)} || ' ', ' ' || :{name} || ' ') > 0")
            params[name] = code.strip()
        return FilterArguments(clauses, params, [f"criterion is {code.strip()}" for code in wanted])

    return inner
