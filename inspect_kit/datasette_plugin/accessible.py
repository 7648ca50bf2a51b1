"""Datasette's own templates, with the few attributes they lack for assistive technology.

axe-core found serious or critical faults on every Datasette page (0.65.5):
no ``lang`` on ``<html>``, filter selects and inputs without a name, an SQL
editor without a label, and scrollable regions (the results table, the
column notes) that a keyboard cannot reach. Each is one missing attribute in a
template that is otherwise right, so rather than copy whole templates (their
blocks do not reach these lines) :class:`PatchedLoader` loads Datasette's
``default:`` templates with the attributes added. Every patch must apply
exactly as written: :func:`patched_source` raises if Datasette's text changed,
and ``tests/test_datasette_accessible.py`` loads every patched template.
Colours (Datasette's #007bff buttons are 3.97:1 on white) are fixed in
``inspect_kit.css``.
"""

from __future__ import annotations

from jinja2 import BaseLoader, Environment, TemplateNotFound

# template → [(Datasette's text, ours, how many times it occurs)].
PATCHES: dict[str, list[tuple[str, str, int]]] = {
    "base.html": [("<html>", '<html lang="en">', 1)],
    "table.html": [
        ('<select name="_filter_column_{{ loop.index }}">',
         '<select name="_filter_column_{{ loop.index }}" aria-label="Filter {{ loop.index }}: column">', 1),
        ('<select name="_filter_op_{{ loop.index }}">',
         '<select name="_filter_op_{{ loop.index }}" aria-label="Filter {{ loop.index }}: how to compare">', 1),
        ('<input type="text" name="_filter_value_{{ loop.index }}" class="filter-value"',
         '<input type="text" name="_filter_value_{{ loop.index }}" class="filter-value"'
         ' aria-label="Filter {{ loop.index }}: value"', 1),
        ('<select name="_filter_column">', '<select name="_filter_column" aria-label="New filter: column">', 1),
        ('<select name="_filter_op">', '<select name="_filter_op" aria-label="New filter: how to compare">', 1),
        ('<input type="text" name="_filter_value" class="filter-value">',
         '<input type="text" name="_filter_value" class="filter-value" aria-label="New filter: value">', 1),
        ('<select name="_sort" id="sort_by">', '<select name="_sort" id="sort_by" aria-label="Sort by">', 1),
        # A region of its own (not the <dl>, which must keep its list role) that takes focus.
        ('<dl class="column-descriptions">',
         '<div class="ik-column-notes" tabindex="0" role="region" aria-label="What the columns mean">'
         '<dl class="column-descriptions">', 1),
        ('</dl>', '</dl></div>', 1),
    ],
    # The ✖ that removes a facet, or a value chosen in one, says what it does (and is underlined
    # in inspect_kit.css: a link told apart by colour alone fails link-in-text-block).
    "_facet_results.html": [
        ('<a href="{{ facet_info.toggle_url }}" class="cross">',
         '<a href="{{ facet_info.toggle_url }}" class="cross" aria-label="Hide the {{ facet_info.name }} facet">', 1),
        ('<a href="{{ facet_value.toggle_url }}" class="cross">',
         '<a href="{{ facet_value.toggle_url }}" class="cross" aria-label="Remove the filter'
         ' {{ facet_info.name }} = {{ facet_value.label or facet_value.value }}">', 1),
    ],
    "_table.html": [
        ('<div class="table-wrapper">', '<div class="table-wrapper" tabindex="0" role="region" aria-label="Rows">', 1),
    ],
    "query.html": [
        ('<div class="table-wrapper">', '<div class="table-wrapper" tabindex="0" role="region" aria-label="Answer">', 1),
        ('<textarea id="sql-editor" name="sql"', '<textarea id="sql-editor" name="sql" aria-label="SQL query"', 1),
    ],
    "database.html": [
        ('<textarea id="sql-editor" name="sql">', '<textarea id="sql-editor" name="sql" aria-label="SQL query">', 1),
    ],
    # CodeMirror hides the textarea and types into one of its own: name that one too.
    "_codemirror_foot.html": [
        ('lineWrapping: true,', 'lineWrapping: true,\n          screenReaderLabel: "SQL query",', 1),
    ],
}


def patched_source(name: str, source: str) -> str:
    """``source`` of Datasette's template ``name`` with our attributes added.

    :raises ValueError: when a patch does not find Datasette's text as many
        times as expected (Datasette changed: look again at that page with axe).
    """
    for old, new, times in PATCHES.get(name, []):
        found = source.count(old)
        if found != times:
            raise ValueError(f"Datasette's {name} has {found} of {old!r}, expected {times}: its accessibility "
                             "patch in inspect_kit/datasette_plugin/accessible.py needs another look.")
        source = source.replace(old, new)
    return source


class PatchedLoader(BaseLoader):
    """Serves Datasette's own templates named in :data:`PATCHES` through :func:`patched_source`,
    both as ``default:<name>`` (which our overrides extend) and as ``<name>`` (pages we do not override)."""

    def __init__(self, datasette_loader: BaseLoader):
        self.datasette_loader = datasette_loader

    def get_source(self, environment: Environment, template: str):
        name = template.removeprefix("default:")
        if name not in PATCHES:
            raise TemplateNotFound(template)
        source, filename, uptodate = self.datasette_loader.get_source(environment, "default:" + name)
        return patched_source(name, source), filename, uptodate
