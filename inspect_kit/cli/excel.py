"""The Excel commands of ``inspect-kit``: ``export``, ``template`` and ``import``.

Thin shells over :mod:`inspect_kit.excel`: parse options, open the store,
call the library, print what happened. :func:`register` adds them to the
main group in :mod:`inspect_kit.cli`. Domain errors become one-line messages
through the group's error handling, never tracebacks.
"""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

import click

from ..actors import SYSTEM
from ..store import Store
from .common import acting_actor, home_option, review_option, writing


@click.command()
@review_option
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="The workbook to write (default: <review>-evidence-<date>.xlsx here).")
@click.option("--accepted-only", is_flag=True, help="Only findings accepted in QA.")
@click.option("--strand", metavar="CODE", help="Only this strand's findings (ofsted, health, police, …).")
@click.option("--case", "case_ref", metavar="C-017", help="Only this case's findings, chronology and alerts.")
@click.option("--as", "username", metavar="USERNAME",
              help="Export with this account's rights (default: the administrator at this terminal).")
def export(store: Store, review_slug, output, accepted_only, strand, case_ref, username):
    """Write the review's evidence workbook (.xlsx) for the report team.

    Sheets: About this export, summaries (criterion × strand, strengths vs
    areas for improvement by agency), findings, chronology, safeguarding
    alerts, judgements and a data dictionary. Every row count is checked
    against the database; the export is written to the audit log.

    Example:

    \b
        inspect-kit export --accepted-only -o ashbridge-evidence.xlsx
        inspect-kit export --case C-017 --strand health -o c017-health.xlsx
    """
    from ..excel.evidence import EvidenceFilter, export_evidence_workbook, export_filename, planned_rows
    from ..reviews import current_review

    wanted = EvidenceFilter(accepted_only=accepted_only, strand=strand, case_ref=case_ref)
    with contextlib.closing(store.evidence()) as db:
        review = current_review(db, review_slug)
        actor = acting_actor(store, db, username, review["id"])
        output = output or Path(export_filename(review["slug"]))
        total = planned_rows(db, actor, review["id"], wanted)
        with writing(output), click.progressbar(length=total, label=f"Writing {output.name}", file=sys.stderr,
                                                 show_pos=True) as bar:
            result = export_evidence_workbook(db, actor, review["id"], output, wanted=wanted, progress=bar.update,
                                              source="inspect-kit export (command line)")
    if result.manifest:
        from ..manifests import write_sidecar

        with writing(output):
            write_sidecar(output, result.manifest)
    click.echo(f"Wrote {result.path} (sha256 {result.manifest['sha256'] if result.manifest else '?'}; "
               "check a copy with `inspect-kit verify --file`):")
    for sheet in result.sheets:
        if sheet.note:
            click.echo(f"  {sheet.title}: {sheet.note}")
            continue
        checked = {True: " (count checked)", False: " (COUNT MISMATCH)", None: ""}[sheet.count_checked]
        click.echo(f"  {sheet.title}: {sheet.rows:,} rows{checked}")
    if result.stats.cut_cells:
        click.echo(f"  {result.stats.cut_cells} cell(s) over Excel's 32,767 characters were cut (see the About sheet).")
    if not result.counts_ok:
        raise click.ClickException("Some sheets do not match the database's counts: see the About sheet.")


@click.command()
@review_option
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="The workbook to write (default: <review>-capture[-<inspector>].xlsx here).")
@click.option("--inspector", "inspector_code", metavar="CODE",
              help="Make it for one inspector (e.g. POL-02): only their account can import it.")
@click.option("--rows", default=300, show_default=True, type=click.IntRange(1, 20_000),
              help="Rows prepared on each of the Findings and Chronology sheets.")
def template(store: Store, review_slug, output, inspector_code, rows):
    """Write a capture workbook to record evidence offline in Excel.

    It has dropdowns for strand, agency, case, activity, finding type and
    criteria, and a uuid on every row so that importing it twice never makes
    duplicates. Bring it back with `inspect-kit import`.

    Example:

    \b
        inspect-kit template --inspector POL-02 -o pol02-capture.xlsx
    """
    from ..excel.capture import TEMPLATE_VERSION, write_capture_template
    from ..reviews import current_review

    with contextlib.closing(store.evidence()) as db:
        review = current_review(db, review_slug)
        suffix = f"-{inspector_code}" if inspector_code else ""
        output = output or Path(f"{review['slug']}-capture{suffix}.xlsx")
        with writing(output):
            result = write_capture_template(db, review["id"], output, inspector_code=inspector_code,
                                            finding_rows=rows, event_rows=rows, actor=SYSTEM)
    made_for = f" for {result.inspector}" if result.inspector else ""
    click.echo(f"Wrote {result.path}{made_for} (template version {TEMPLATE_VERSION}): {result.finding_rows} finding "
               f"rows and {result.event_rows} chronology rows ready.")


@click.command("import")
@review_option
@click.argument("workbook", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--as", "username", required=True, metavar="USERNAME",
              help="The inspector's account: the imported records are theirs.")
@click.option("--partial", is_flag=True,
              help="Import the rows that pass and list the others (default: nothing unless every row passes).")
@click.option("--max-rows", default=10_000, show_default=True, type=click.IntRange(1, 1_000_000),
              help="Refuse workbooks with more filled rows than this.")
def import_workbook(store: Store, review_slug, workbook: Path, username: str, partial: bool, max_rows: int):
    """Check a filled capture workbook and import its findings and chronology.

    Every row is checked first; problems are listed as "sheet, row, column:
    what is wrong". Unless --partial is given, nothing is imported while any
    row has a problem. Rows already imported are recognised by their uuid and
    never duplicated.

    Example:

    \b
        inspect-kit import pol02-capture.xlsx --as pol02
    """
    from ..excel.importer import ImportLimits, WorkbookInvalid, import_capture_workbook
    from ..reviews import current_review

    with contextlib.closing(store.evidence()) as db:
        review = current_review(db, review_slug)
        actor = acting_actor(store, db, username, review["id"])
        try:
            report = import_capture_workbook(db, actor, review["id"], workbook,
                                             limits=ImportLimits(max_rows=max_rows), partial=partial)
        except WorkbookInvalid as invalid:
            for error in invalid.errors:
                click.echo(str(error), err=True)
            raise click.ClickException(invalid.message) from None
    for error in report.skipped:
        click.echo(f"skipped: {error}", err=True)
    click.echo(report.summary())


def register(group: click.Group) -> None:
    """Add the Excel commands, with ``--home``, to the ``inspect-kit`` group.

    """
    for command in (export, template, import_workbook):
        if not any(param.name == "store" for param in command.params):
            home_option(command)
        group.add_command(command)
