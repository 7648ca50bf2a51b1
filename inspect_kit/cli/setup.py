"""Setting up a real review at the command line: strands, status,
agencies, inspectors, the case sample, and the administrator's account
commands (enable, role, password reset, tokens).

Thin shells over :mod:`inspect_kit.roster`, :mod:`inspect_kit.agencies`,
:mod:`inspect_kit.sample`, :mod:`inspect_kit.lifecycle` and
:mod:`inspect_kit.account_admin`; :func:`register` adds them to the main
group in :mod:`inspect_kit.cli`. Commands at the terminal act as the
administrator (``system`` in the audit log).
"""

from __future__ import annotations

import contextlib
import functools
import sys
from pathlib import Path

import click

from .. import vocab
from ..actors import SYSTEM
from ..store import Store
from .common import ByteProgress, InspectKitGroup, home_option


def _review_option(function):
    return click.option("--review", "review_slug", metavar="SLUG",
                        help="The review (default: the latest created).")(function)


def _home(function):
    return home_option(function)


@contextlib.contextmanager
def _databases(store: Store):
    """Both databases of an existing store, closed afterwards."""
    if not store.exists():
        raise click.ClickException(f"No evidence store at {store.home}: run `inspect-kit init` first.")
    with contextlib.closing(store.evidence()) as evidence_db, contextlib.closing(store.private()) as private_db:
        yield evidence_db, private_db


def _review(evidence_db, slug):
    from ..reviews import current_review

    return current_review(evidence_db, slug)


def _show_row_errors(error) -> None:
    for row_error in error.errors:
        click.echo(f"  {row_error}", err=True)


# ----------------------------------------------------------------- review: list, strands, status


@click.command("list")
@_home
def review_list(store: Store):
    """List the reviews in the store with their status and strands.

    Example:

    \b
        inspect-kit review list
    """
    from ..roster import review_strand_codes

    with _databases(store) as (db, _private):
        rows = list(db.query("SELECT * FROM reviews ORDER BY id"))
        if not rows:
            click.echo("No reviews yet: create one with `inspect-kit review create`.")
        for row in rows:
            click.echo(f"{row['slug']:<24} {row['status']:<17} {', '.join(review_strand_codes(db, row['id']))}"
                       f"  {row['title']}")


@click.command("strands")
@_home
@_review_option
@click.argument("codes", nargs=-1)
def review_strands(store: Store, review_slug, codes):
    """Show, or set, the strands taking part in the review.

    With CODES the review's strands become exactly those (a strand that
    already has inspectors, agencies or findings cannot be left out).
    Strands: ofsted, health, police, probation, education.

    Example:

    \b
        inspect-kit review strands ofsted health police probation
    """
    from ..roster import review_strand_codes, set_review_strands

    with _databases(store) as (db, _private):
        review = _review(db, review_slug)
        if codes:
            set_review_strands(db, SYSTEM, review["id"], list(codes))
        click.echo(f"Strands taking part in {review['slug']}: {', '.join(review_strand_codes(db, review['id']))}.")


@click.command("status")
@_home
@_review_option
@click.argument("status", required=False, type=click.Choice(list(vocab.REVIEW_STATUSES)))
@click.option("--reason", help="Why the review is reopened (needed to move back a step).")
def review_status(store: Store, review_slug, status, reason):
    """Show the review's status, or move it on (or back, with --reason).

    setup → fieldwork → drafting → qa → factual_accuracy → published → closed.
    Evidence is taken only in setup and fieldwork.

    Example:

    \b
        inspect-kit review status fieldwork
    """
    from ..lifecycle import ALLOWS, set_status

    with _databases(store) as (db, _private):
        review = _review(db, review_slug)
        if status:
            review = set_status(db, SYSTEM, review["id"], status, reason=reason)
    click.echo(f"{review['slug']} is at {review['status']}. {ALLOWS[review['status']]}")


# ----------------------------------------------------------------- agencies


@click.group("agency", cls=InspectKitGroup)
def agency():
    """Add, edit, retire and import the agencies a review inspects.

    Example:

    \b
        inspect-kit agency list
    """


@agency.command("list")
@_home
@_review_option
def agency_list(store: Store, review_slug):
    """List the review's agencies (retired ones marked).

    Example:

    \b
        inspect-kit agency list --review testshire-2026
    """
    from ..agencies import list_agencies

    with _databases(store) as (db, _private):
        rows = list_agencies(db, _review(db, review_slug)["id"])
    if not rows:
        click.echo("No agencies yet: `inspect-kit agency add` or `inspect-kit agency import`.")
    for row in rows:
        retired = "  (retired)" if row["retired_at"] else ""
        click.echo(f"{row['id']:>4}  {row['name']:<40} {row['agency_type']:<22} {row['lead_strand']}{retired}")


@agency.command("add")
@_home
@_review_option
@click.argument("name")
@click.option("--type", "agency_type", required=True, type=click.Choice(list(vocab.AGENCY_TYPES)),
              help="The kind of service.")
@click.option("--lead-strand", required=True, help="The strand that leads on it (taking part in the review).")
@click.option("--organisation", help="The organisation it belongs to, e.g. the hospitals trust.")
def agency_add(store: Store, review_slug, name, agency_type, lead_strand, organisation):
    """Add an agency to the review.

    Example:

    \b
        inspect-kit agency add "Testshire MASH" --type mash --lead-strand ofsted
    """
    from ..agencies import add_agency

    with _databases(store) as (db, _private):
        row = add_agency(db, SYSTEM, _review(db, review_slug)["id"], name=name, agency_type=agency_type,
                         lead_strand=lead_strand, organisation=organisation)
    click.echo(f"Added agency {row['id']}: {row['name']}.")


@agency.command("edit")
@_home
@_review_option
@click.argument("agency_name", metavar="AGENCY")
@click.option("--name", help="A new name.")
@click.option("--type", "agency_type", type=click.Choice(list(vocab.AGENCY_TYPES)), help="A new kind of service.")
@click.option("--lead-strand", help="A new lead strand.")
@click.option("--organisation", help="A new organisation.")
def agency_edit(store: Store, review_slug, agency_name, **changes):
    """Change an agency (AGENCY is its name or id).

    Example:

    \b
        inspect-kit agency edit "Testshire MASH" --organisation "Testshire Council"
    """
    from ..agencies import edit_agency

    changes = {key: value for key, value in changes.items() if value is not None}
    with _databases(store) as (db, _private):
        row = edit_agency(db, SYSTEM, _review(db, review_slug)["id"], agency_name, **changes)
    click.echo(f"Changed agency {row['id']}: {row['name']}.")


@agency.command("retire")
@_home
@_review_option
@click.argument("agency_name", metavar="AGENCY")
@click.option("--undo", is_flag=True, help="Bring a retired agency back.")
def agency_retire(store: Store, review_slug, agency_name, undo):
    """Retire an agency: new records cannot name it; old ones keep it.

    Example:

    \b
        inspect-kit agency retire "Testshire MASH"
    """
    from ..agencies import retire_agency

    with _databases(store) as (db, _private):
        row = retire_agency(db, SYSTEM, _review(db, review_slug)["id"], agency_name, retired=not undo)
    click.echo(f"{'Brought back' if undo else 'Retired'} agency {row['id']}: {row['name']}.")


@agency.command("import")
@_home
@_review_option
@click.argument("sheet", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def agency_import(store: Store, review_slug, sheet: Path):
    """Add or update agencies from an .xlsx or .csv sheet.

    Columns: name, organisation, agency_type, lead_strand. All rows are
    checked first; nothing is imported while any has a problem. Importing
    again updates, never duplicates.

    Example:

    \b
        inspect-kit agency import agencies.csv
    """
    from ..agencies import import_agencies
    from ..excel.importer import WorkbookInvalid

    with _databases(store) as (db, _private):
        try:
            report = import_agencies(db, SYSTEM, _review(db, review_slug)["id"], sheet)
        except WorkbookInvalid as error:
            _show_row_errors(error)
            raise
    click.echo(f"Agencies from {sheet.name}: {len(report['added'])} added, {len(report['updated'])} updated, "
               f"{len(report['unchanged'])} unchanged.")


# ----------------------------------------------------------------- inspectors and cases


@click.group("inspector", cls=InspectKitGroup)
def inspector():
    """The review's inspectors, each linked to an account.

    Example:

    \b
        inspect-kit inspector list
    """


@inspector.command("list")
@_home
@_review_option
def inspector_list(store: Store, review_slug):
    """List the review's inspectors and the accounts linked to them.

    Example:

    \b
        inspect-kit inspector list
    """
    with _databases(store) as (db, private_db):
        review = _review(db, review_slug)
        rows = list(db.query("SELECT inspectors.code, inspectors.role, strands.code AS strand FROM inspectors"
                             " JOIN strands ON strands.id = strand_id WHERE review_id = ? ORDER BY inspectors.code",
                             [review["id"]]))
        accounts = {row["inspector_code"]: row["username"] for row in private_db.query(
            "SELECT username, inspector_code FROM accounts WHERE inspector_code IS NOT NULL")}
    if not rows:
        click.echo("No inspectors yet: `inspect-kit user add NAME --role inspector --strand S --inspector CODE`.")
    for row in rows:
        click.echo(f"{row['code']:<8} {row['strand']:<10} {row['role']:<10} {accounts.get(row['code'], '-')}")


@inspector.command("link")
@_home
@_review_option
@click.argument("username")
@click.option("--inspector", "inspector_code", help="The display code, when the account has none yet.")
def inspector_link(store: Store, review_slug, username, inspector_code):
    """Make an existing account an inspector of the review (another review, say).

    Example:

    \b
        inspect-kit inspector link pol02 --review otherton-2027
    """
    from ..roster import link_inspector

    with _databases(store) as (db, private_db):
        review = _review(db, review_slug)
        row = link_inspector(db, private_db, SYSTEM, review_id=review["id"], username=username, code=inspector_code)
    click.echo(f"{username} is the inspector {row['code']} ({row['strand']}) in {review['slug']}.")


@click.group("cases", cls=InspectKitGroup)
def cases():
    """The review's case sample.

    Example:

    \b
        inspect-kit cases import sample.xlsx
    """


@cases.command("import")
@_home
@_review_option
@click.argument("sheet", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def cases_import(store: Store, review_slug, sheet: Path):
    """Import the case sample from an .xlsx or .csv sheet.

    Columns: case_ref (C-017), household_ref, age_band, legal_status,
    cp_category, selection_route, local_identifier (optional; kept only in
    private.db). Codes or their labels. All rows are checked first; nothing
    is imported while any has a problem. Importing again updates, never
    duplicates.

    Example:

    \b
        inspect-kit cases import sample.xlsx
    """
    from ..excel.importer import WorkbookInvalid
    from ..sample import import_case_sample

    with _databases(store) as (db, private_db):
        try:
            report = import_case_sample(db, private_db, SYSTEM, _review(db, review_slug)["id"], sheet)
        except WorkbookInvalid as error:
            _show_row_errors(error)
            raise
    click.echo(f"Cases from {sheet.name}: {len(report.added)} added, {len(report.updated)} updated, "
               f"{len(report.unchanged)} unchanged; {report.identifiers} local identifier(s) kept in private.db.")


@cases.command("template")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The workbook to write.")
@click.option("--example", "example_rows", default=0, show_default=True, type=click.IntRange(0, 999),
              help="Fill this many fictional rows (C-001 …) to try the import out.")
def cases_template(output: Path, example_rows: int):
    """Write a case-sample workbook to fill in: the columns `inspect-kit
    cases import` reads, and a Codes sheet with every allowed value.

    Example:

    \b
        inspect-kit cases template -o sample.xlsx
    """
    from ..sample import write_sample_template

    try:
        write_sample_template(output, example_rows=example_rows)
    except OSError as error:
        raise click.ClickException(f"Could not write {output}: {error.strerror or error}.") from None
    filled = f" with {example_rows} fictional example row(s)" if example_rows else ""
    click.echo(f"Wrote {output}{filled}: fill one row per child, then `inspect-kit cases import {output}`.")


@cases.command("list")
@_home
@_review_option
def cases_list(store: Store, review_slug):
    """List the review's cases (never a local identifier).

    Example:

    \b
        inspect-kit cases list
    """
    from ..reviews import cases as review_cases

    with _databases(store) as (db, _private):
        rows = review_cases(db, _review(db, review_slug)["id"])
    for row in rows:
        click.echo(f"{row['case_ref']:<8} {row['household_ref'] or '-':<8} {row['age_band']:<8} "
                   f"{row['legal_status']:<14} {row['selection_route']}")
    click.echo(f"{len(rows)} case(s).")


# ----------------------------------------------------------------- accounts


@click.command("enable")
@_home
@click.argument("username")
def user_enable(store: Store, username):
    """Let a disabled account sign in again (its password and tokens come back).

    Example:

    \b
        inspect-kit user enable pol02
    """
    from ..account_admin import enable_account

    with _databases(store) as (db, private_db):
        enable_account(private_db, db, SYSTEM, username)
    click.echo(f"Enabled {username}.")


@click.command("role")
@_home
@click.argument("username")
@click.option("--role", required=True, type=click.Choice(list(vocab.ACCOUNT_ROLES)), help="The new role.")
@click.option("--strand", help="The strand (required for inspectors).")
def user_role(store: Store, username, role, strand):
    """Change an account's role and strand.

    Example:

    \b
        inspect-kit user role pol02 --role lead --strand police
    """
    from ..account_admin import change_role

    with _databases(store) as (db, private_db):
        account = change_role(private_db, db, SYSTEM, username, role=role, strand=strand)
    click.echo(f"{username} is now {vocab.ACCOUNT_ROLES[account['role']]} ({account['strand'] or 'no strand'}).")


@click.command("reset-password")
@_home
@click.argument("username")
def user_reset_password(store: Store, username):
    """Print a one-time code (valid 24 hours) with which the account's owner
    sets a new password at /reset-password. Shown once; a new code cancels
    the last.

    Example:

    \b
        inspect-kit user reset-password pol02
    """
    from ..account_admin import issue_password_reset

    with _databases(store) as (db, private_db):
        reset = issue_password_reset(private_db, db, SYSTEM, username)
    click.echo(f"Reset code for {username} (valid until {reset['expires_at']}, shown once):")
    click.echo(reset["code"])
    click.echo("They enter it with a new password at /reset-password on the intake app.")


@click.command("tokens")
@_home
@click.argument("username", required=False)
def user_tokens(store: Store, username):
    """List API tokens (never their values): id, account, created, last used.

    Example:

    \b
        inspect-kit user tokens pol02
    """
    from ..account_admin import list_tokens

    with _databases(store) as (_db, private_db):
        rows = list_tokens(private_db, username)
    if not rows:
        click.echo("No API tokens.")
    for row in rows:
        click.echo(f"{row['id']:>4}  {row['username']:<20} created {row['created_at']}  "
                   f"last used {row['last_used_at'] or 'never'}")


@click.command("revoke-token")
@_home
@click.argument("token_id", type=int)
def user_revoke_token(store: Store, token_id):
    """Revoke an API token by its id (see `inspect-kit user tokens`).

    Example:

    \b
        inspect-kit user revoke-token 3
    """
    from ..account_admin import revoke_token

    with _databases(store) as (db, private_db):
        row = revoke_token(private_db, db, SYSTEM, token_id)
    click.echo(f"Revoked token {token_id} of {row['username']}.")


@click.command("retention")
@_home
@_review_option
@click.argument("on", metavar="YYYY-MM-DD")
def review_retention(store: Store, review_slug, on):
    """Set the review's retention review date: from then, `inspect-kit purge` may remove it.

    Example:

    \b
        inspect-kit review retention 2033-12-31
    """
    from ..lifecycle import set_retention_review

    with _databases(store) as (db, _private):
        review = set_retention_review(db, SYSTEM, _review(db, review_slug)["id"], on)
    click.echo(f"{review['slug']}: retention review on {review['retention_review_on']}.")


# ----------------------------------------------------------------- purge


@click.command("purge")
@_home
@click.argument("review_slug", metavar="REVIEW")
@click.option("--dry-run", is_flag=True, help="Only say what would be removed.")
@click.option("--force", "force_reason", metavar="REASON",
              help="Purge before the retention review date, for this reason (kept in the certificate).")
def purge(store: Store, review_slug, dry_run, force_reason):
    """Remove a review at the end of its retention: its evidence, attachment
    files no other review uses, case-identity keys and the accounts of no other
    review. Shows what will go, then asks you to type the review's name.
    The audit log keeps who/when/what of everything and a purge certificate.

    Example:

    \b
        inspect-kit purge testshire-2026 --dry-run
        inspect-kit purge testshire-2026
    """
    from ..purge import plan_purge, purge_review

    with _databases(store) as (db, private_db):
        plan = plan_purge(db, private_db, review_slug)
        click.echo(f"Purging {plan.review['slug']} ({plan.review['title']}) would remove:")
        for table, count in plan.rows.items():
            if count:
                click.echo(f"  {count:>7,} {table}")
        click.echo(f"  {len(plan.attachment_files):>7,} attachment file(s) no other review uses")
        click.echo(f"  {plan.identity_keys:>7,} case-identity key(s)")
        click.echo(f"  {len(plan.accounts):>7,} account(s) of no other review"
                   + (f": {', '.join(plan.accounts)}" if plan.accounts else ""))
        click.echo(f"  {plan.audit_rows:>7,} audit row(s) keep who/when/what but lose their content")
        when = plan.retention_review_on or "not set"
        click.echo(f"Retention review date: {when}" + ("" if plan.due else " (not reached)") + ".")
        if dry_run:
            click.echo("Dry run: nothing was removed.")
            return
        if not plan.due and not force_reason:
            raise click.ClickException(f"{review_slug} is not due for purging (retention review date {when}); "
                                       "purge early only with --force REASON.")
        stdin = sys.stdin
        if stdin.isatty():
            typed = click.prompt(f"Type {review_slug} to purge it for good")
        else:
            typed = stdin.readline().strip()
        certificate = purge_review(db, private_db, store, SYSTEM, review_slug, confirm=typed,
                                   force_reason=force_reason)
    click.echo(f"Purged {review_slug}. The purge certificate is audit row {certificate.audit_id} "
               "(`inspect-kit verify` still checks the whole log).")


# ----------------------------------------------------------------- replication


@click.group("replicate", cls=InspectKitGroup)
def replicate():
    """Continuous replication of the databases with Litestream.

    Example:

    \b
        inspect-kit replicate set /mnt/second-disk/ashbridge-replica
    """


def _secret() -> str | None:
    """An S3 secret key from $LITESTREAM_SECRET_ACCESS_KEY or standard input; never from argv."""
    import os

    if os.environ.get("LITESTREAM_SECRET_ACCESS_KEY"):
        return os.environ["LITESTREAM_SECRET_ACCESS_KEY"]
    if sys.stdin.isatty():
        return click.prompt("S3 secret access key", hide_input=True, default="", show_default=False) or None
    return sys.stdin.readline().strip() or None


def _replica_target(command):
    """The argument TARGET (a folder or s3://bucket/prefix) and its S3 options, handed to
    ``command`` as one ``ReplicaTarget`` named ``target``; for S3 the secret key is read by
    :func:`_secret`, never taken from the command line."""

    @functools.wraps(command)
    def with_target(*args, target: str, endpoint, region, access_key_id, **kwargs):
        from ..replication import ReplicaTarget

        secret = _secret() if target.startswith("s3://") else None
        parsed = ReplicaTarget.parse(target, endpoint=endpoint, region=region, access_key_id=access_key_id,
                                     secret_access_key=secret)
        return command(*args, target=parsed, **kwargs)

    with_target = click.option("--access-key-id", help="The S3 access key id; the secret is read from "
                                                       "$LITESTREAM_SECRET_ACCESS_KEY or standard input.")(with_target)
    with_target = click.option("--region", help="The S3 region.")(with_target)
    with_target = click.option("--endpoint", help="An S3-compatible service's URL (MinIO, say); not for AWS.")(with_target)
    return click.argument("target")(with_target)


@replicate.command("set")
@_home
@_replica_target
def replicate_set(store: Store, target):
    """Replicate evidence.db and private.db to a folder or s3://bucket/prefix
    from the next `inspect-kit serve` on.

    Example:

    \b
        inspect-kit replicate set /mnt/second-disk/ashbridge-replica
        inspect-kit replicate set s3://inspections/ashbridge --endpoint https://minio.local:9000 \\
            --access-key-id inspect-kit
    """
    from ..replication import configure

    with _databases(store) as (_db, private_db):
        configure(private_db, target)
    click.echo(f"From the next `inspect-kit serve`, replicating to {target.shown()}.")


@replicate.command("show")
@_home
def replicate_show(store: Store):
    """Say where the store replicates to (never the secret key).

    Example:

    \b
        inspect-kit replicate show
    """
    from ..replication import configured

    with _databases(store) as (_db, private_db):
        target = configured(private_db)
    click.echo(f"Replicating to {target.shown()}." if target else
               "Not replicating: `inspect-kit replicate set FOLDER` to start.")


@replicate.command("off")
@_home
def replicate_off(store: Store):
    """Stop replicating (from the next `inspect-kit serve`); the replica is left as it is.

    Example:

    \b
        inspect-kit replicate off
    """
    from ..replication import switch_off

    with _databases(store) as (_db, private_db):
        was = switch_off(private_db)
    click.echo("Replication is off." if was else "Replication was not on.")


@replicate.command("restore")
@_home
@_replica_target
def replicate_restore(store: Store, target):
    """Rebuild a store's databases from its replica into a new, empty --home.

    Attachment files are not in the replica: copy them from the last backup
    (`inspect-kit check` then names any missing).

    Example:

    \b
        inspect-kit replicate restore /mnt/second-disk/ashbridge-replica --home evidence-restored
    """
    from ..replication import restore_from_replica

    migrated = restore_from_replica(target, store.home)
    click.echo(f"Restored evidence.db and private.db from {target.shown()} into {store.home}"
               + (f" (applied {', '.join(migrated)})" if migrated else "") + ".")
    click.echo("Replication is off in the restored store: `inspect-kit replicate set` to start it again.")


# ----------------------------------------------------------------- restore


@click.command("restore")
@_home
@click.argument("backup", type=click.Path(exists=True, file_okay=False, path_type=Path))
def restore(store: Store, backup: Path):
    """Restore a backup (made by `inspect-kit backup`) into a new, empty --home.

    The backup is checked first as `inspect-kit check` checks a store and
    refused if anything is wrong; the copy is verified before it is put in
    place (nothing is left if it fails); pending upgrades are then applied.

    Example:

    \b
        inspect-kit restore /media/usb/ashbridge-2026-11-25 --home evidence-restored
    """
    from ..restore import restore_store

    progress = ByteProgress("Checking and copying attachments")
    try:
        report = restore_store(backup, store.home, progress=progress)
    finally:
        progress.close()
    for name, size in report.copy.databases.items():
        click.echo(f"Restored {name} ({size:,} bytes).")
    click.echo(f"Restored {report.copy.attachments} attachment file(s); every one matches its sha256.")
    if report.migrated:
        click.echo(f"Applied upgrades: {', '.join(report.migrated)}.")
    click.echo(f"Restored into {store.home}: serve it with `inspect-kit serve --home {store.home}`.")


def register(cli: click.Group) -> None:
    """Add the set-up commands to ``cli`` (and to its ``review`` and ``user`` groups)."""
    for command in (agency, inspector, cases, restore, purge, replicate):
        cli.add_command(command)
    for command in (review_list, review_strands, review_status, review_retention):
        cli.commands["review"].add_command(command)
    for command in (user_enable, user_role, user_reset_password, user_tokens, user_revoke_token):
        cli.commands["user"].add_command(command)
