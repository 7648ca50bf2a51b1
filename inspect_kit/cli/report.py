"""The draft report and the trail's check: ``inspect-kit report`` and ``inspect-kit verify``.

Thin shells over :mod:`inspect_kit.report` and :mod:`inspect_kit.verify`;
:func:`register` adds them to the main group in :mod:`inspect_kit.cli`.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import click

from ..store import Store
from .common import acting_actor, home_option, review_option, writing


@click.command()
@review_option
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="The Word file to write (default: <review>-draft-report-<date>.docx here).")
@click.option("--include-unaccepted", is_flag=True,
              help="Also cite evidence not yet accepted in QA (marked in the report). Default: accepted only.")
@click.option("--as", "username", metavar="USERNAME",
              help="Build it as this account, which must be the lead (default: whoever runs this command on "
                   "the store's files).")
def report(store: Store, review_slug, output, include_unaccepted, username):
    """Write the review's first draft report (.docx) from its judgements and cited evidence.

    Structured by the framework: title page (DRAFT, evidence snapshot),
    headline findings, each area and criterion with its judgement, narrative
    and numbered references to the cited evidence, what needs to improve, the
    index case's chronology, methodology and evidence base, and every cited
    finding in full. Its manifest (sha256, counts, audit chain head) goes to
    the audit log and beside the file as <file>.manifest.json.

    Example:

    \b
        inspect-kit report -o draft.docx
        inspect-kit verify --file draft.docx
    """
    from ..manifests import write_sidecar
    from ..report import build_report, report_filename
    from ..reviews import current_review

    with contextlib.closing(store.evidence()) as db:
        review = current_review(db, review_slug)
        actor = acting_actor(store, db, username, review["id"])
        output = output or Path(report_filename(review["slug"]))
        with writing(output):
            result = build_report(db, actor, review["id"], output, include_unaccepted=include_unaccepted)
            sidecar = write_sidecar(output, result.manifest)
    basis = "including evidence not yet accepted" if include_unaccepted else "accepted evidence only"
    click.echo(f"Wrote {result.path} ({basis}): {result.criteria} criteria, {result.judgements} judgements, "
               f"{result.references} cited findings, {result.chronology_events} chronology events in the case annex.")
    if result.omitted_citations:
        click.echo(f"  {result.omitted_citations} citation(s) of evidence not yet accepted were left out "
                   "(--include-unaccepted to show them).")
    click.echo(f"  sha256 {result.manifest['sha256']}; manifest in audit row {result.manifest['audit_id']} and {sidecar}.")


@click.command()
@click.option("--file", "files", multiple=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Also check that this file is exactly one that was exported (repeatable).")
@click.pass_context
def verify(ctx: click.Context, store: Store, files: tuple[Path, ...]):
    """Check the audit chain and every finding's and judgement's history; exit 1 at a break.

    Recomputes every audit row's hash from the one before it, and checks
    each finding and judgement against its recorded versions. With --file,
    says whether the file's sha256 matches a manifest in the audit log.

    Example:

    \b
        inspect-kit verify
        inspect-kit verify --file ashbridge-evidence.xlsx
    """
    from ..verify import verify_file, verify_store

    failed = False
    with contextlib.closing(store.evidence()) as db:
        result = verify_store(db)
        for name, count in result.checked.items():
            broken = next((b for b in result.breaks if b.check == name), None)
            click.echo(f"  {'FAIL' if broken else 'ok  '} {name}: {count:,} checked")
            if broken:
                click.echo(f"         first break: {broken.table} row {broken.row_id}: {broken.message}")
        if result.ok:
            click.echo(f"The evidence trail is intact (audit chain head: row {result.head['id']}, "
                       f"{result.head['hash']}).")
        else:
            failed = True
            first = result.breaks[0]
            click.echo(f"The evidence trail is broken at {first.table} row {first.row_id}.", err=True)
        for path in files:
            checked = verify_file(db, path)
            if checked.matches:
                manifest = checked.manifests[0]
                rows = ", ".join(f"{k} {v}" for k, v in manifest.get("row_counts", {}).items())
                click.echo(f"{path}: matches the {manifest['what']} made by {manifest['created_by']} at "
                           f"{manifest['created_at']} (audit row {manifest['audit_id']}; {rows}).")
            else:
                failed = True
                click.echo(f"{path}: sha256 {checked.sha256} matches no recorded export or report: it is not a file "
                           "this store handed out, or it was changed since.", err=True)
    if failed:
        ctx.exit(1)


def register(group: click.Group) -> None:
    """Add ``report`` and ``verify``, with ``--home``, to the ``inspect-kit`` group."""
    for command in (report, verify):
        if not any(param.name == "store" for param in command.params):
            home_option(command)
        group.add_command(command)
