"""The ``inspect-kit`` command line: a thin shell over the library.

Every command takes ``--home DIR`` (default ``$INSPECT_KIT_HOME`` or
``./evidence``), calls one library function and formats its result. Domain
failures (:class:`~inspect_kit.errors.InspectKitError`) become a one-line
message and exit status 1, never a traceback.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from pathlib import Path

import click

from .. import __version__, vocab
from ..store import Store
from ..web.server import BodyLimits
from . import excel, report, setup
from .common import ByteProgress, InspectKitGroup, home_option


@click.group(cls=InspectKitGroup)
@click.version_option(__version__, prog_name="inspect-kit")
def cli():
    """Evidence gathering for joint inspections of children's safeguarding services.

    Example, a demo review served on http://127.0.0.1:8000:

    \b
        inspect-kit demo
        inspect-kit serve
    """


@cli.command()
@home_option
def init(store: Store):
    """Create the evidence store, or bring an existing one up to date.

    Safe to run again: only pending migrations are applied.

    Example:

    \b
        inspect-kit init --home evidence
    """
    applied = store.init()
    if applied:
        click.echo(f"Evidence store ready at {store.home} (applied {', '.join(applied)}).")
    else:
        click.echo(f"Evidence store at {store.home} is up to date.")


# ----------------------------------------------------------------- reviews


@cli.group(cls=InspectKitGroup)
def review():
    """Set up and list reviews.

    Example:

    \b
        inspect-kit review frameworks
    """


@review.command("frameworks")
def review_frameworks():
    """List the judgement frameworks shipped with inspect_kit.

    Example:

    \b
        inspect-kit review frameworks
    """
    from ..frameworks import list_frameworks

    for framework in list_frameworks():
        graded = "graded" if framework.graded else "not graded"
        click.echo(f"{framework.code:<24} {framework.title} ({graded})")


@review.command("create")
@home_option
@click.option("--slug", required=True, help="Short name used in links, e.g. ashbridge-2026.")
@click.option("--title", required=True, help="The review's title.")
@click.option("--area", required=True, help="The local area inspected.")
@click.option(
    "--type", "review_type", required=True, type=click.Choice(list(vocab.REVIEW_TYPES)), help="The kind of review."
)
@click.option(
    "--framework",
    required=True,
    help="A shipped framework code (see `inspect-kit review frameworks`) or the path of a framework file.",
)
@click.option("--fieldwork-start", help="First day of fieldwork, YYYY-MM-DD.")
@click.option("--fieldwork-end", help="Last day of fieldwork, YYYY-MM-DD.")
@click.option("--draft-due", help="When the draft report is due, YYYY-MM-DD.")
@click.option("--commissioned-by", help="Who commissioned the review.")
@click.option("--legal-basis", help="The power under which the review is carried out.")
@click.option("--retention-review-on", help="When to decide whether to keep or purge the evidence, YYYY-MM-DD.")
def review_create(store: Store, **options):
    """Create a review and load its judgement framework.

    Example:

    \b
        inspect-kit review create --slug ashbridge-2026 \\
            --title "Special review of Ashbridge" --area Ashbridge \\
            --type special_jar --framework sjar-2008
    """
    from ..actors import SYSTEM
    from ..reviews import create_review

    with contextlib.closing(store.evidence()) as db:
        created = create_review(db, actor=SYSTEM, **options)
    click.echo(f"Created review {created['slug']}: {created['title']} ({created['framework_title']}).")


# ----------------------------------------------------------------- accounts


def read_password() -> str:
    """Ask twice on a terminal; otherwise take the first line of stdin.

    Passwords never come from argv, where other users and shell history see them.
    """
    stdin = sys.stdin  # CliRunner swaps sys.stdin too; click.get_text_stream is deprecated
    if stdin.isatty():
        return click.prompt("Password", hide_input=True, confirmation_prompt=True)
    password = stdin.readline().rstrip("\r\n")
    if not password:
        raise click.ClickException("No password given: type it at the prompt, or pipe it on standard input.")
    return password


@cli.group(cls=InspectKitGroup)
def user():
    """Manage the accounts that can log in.

    Example:

    \b
        inspect-kit user list
    """


@user.command("add")
@home_option
@click.argument("username")
@click.option("--role", required=True, type=click.Choice(list(vocab.ACCOUNT_ROLES)), help="What the account may do.")
@click.option("--strand", help="The inspector's strand (ofsted, health, police, …); required for inspectors.")
@click.option("--inspector", "inspector_code", help="The inspector's display code, e.g. POL-02: the account becomes "
                                                    "that inspector in the review (created if new).")
@click.option("--review", "review_slug", metavar="SLUG", help="The review for --inspector (default: the latest).")
def user_add(store: Store, username: str, role: str, strand: str | None, inspector_code: str | None,
             review_slug: str | None):
    """Add an account; the password is asked for (or read from stdin).

    With --inspector the account is linked to that inspector in the review
    (the inspector record is created when the review has none with the code).

    Example:

    \b
        inspect-kit user add pol02 --role inspector --strand police --inspector POL-02
    """
    from ..account_admin import create_account
    from ..actors import SYSTEM

    password = read_password()
    with contextlib.closing(store.private()) as db, contextlib.closing(store.evidence()) as evidence_db:
        review = None
        if inspector_code and evidence_db.execute("SELECT count(*) FROM reviews").fetchone()[0]:
            from ..reviews import current_review

            review = current_review(evidence_db, review_slug)
        account = create_account(db, evidence_db, SYSTEM, username=username, password=password, role=role,
                                 strand=strand, inspector_code=inspector_code,
                                 review_id=review["id"] if review else None)
    linked = f"; inspector {account['inspector_code']} in {review['slug']}" if review else ""
    click.echo(f"Added {account['username']} ({vocab.ACCOUNT_ROLES[account['role']]}{linked}).")


@user.command("list")
@home_option
def user_list(store: Store):
    """List the accounts: role, strand, inspector code, state (active,
    locked or disabled) and last sign-in.

    Example:

    \b
        inspect-kit user list --home evidence
    """
    from ..account_admin import list_accounts

    with contextlib.closing(store.private()) as db:
        accounts = list_accounts(db)
    if not accounts:
        click.echo("No accounts yet: add one with `inspect-kit user add`.")
        return
    click.echo(f"{'username':<20} {'role':<10} {'strand':<10} {'inspector':<10} {'state':<9} last sign-in")
    for account in accounts:
        click.echo(
            f"{account['username']:<20} {account['role']:<10} {account.get('strand') or '-':<10}"
            f" {account.get('inspector_code') or '-':<10} {account['state']:<9}"
            f" {account.get('last_sign_in_at') or 'never'}"
        )


@user.command("disable")
@home_option
@click.argument("username")
def user_disable(store: Store, username: str):
    """Stop an account from logging in (its records and audit trail stay;
    `inspect-kit user enable` brings it back).

    Example:

    \b
        inspect-kit user disable pol02
    """
    from ..account_admin import disable_account
    from ..actors import SYSTEM

    with contextlib.closing(store.private()) as db, contextlib.closing(store.evidence()) as evidence_db:
        disable_account(db, evidence_db, SYSTEM, username)
    click.echo(f"Disabled {username}.")


@user.command("unlock")
@home_option
@click.argument("username")
def user_unlock(store: Store, username: str):
    """Let a username sign in again at once, from any address.

    Sign-in refuses a username for up to 15 minutes after repeated wrong
    passwords (per address, or from many addresses); this forgets its
    counted attempts. It works for a username with no account too.

    Example:

    \b
        inspect-kit user unlock pol02
    """
    from ..account_admin import unlock_account
    from ..actors import SYSTEM

    with contextlib.closing(store.private()) as db, contextlib.closing(store.evidence()) as evidence_db:
        forgotten = unlock_account(db, evidence_db, SYSTEM, username)
    click.echo(f"Unlocked {username}: forgot {forgotten} failed sign-in attempt(s).")


@user.command("token")
@home_option
@click.argument("username")
def user_token(store: Store, username: str):
    """Print a new API token for an account (shown once; only its hash is kept).

    Send it to the JSON API as `Authorization: Bearer TOKEN`.

    Example:

    \b
        inspect-kit user token pol02
        curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:8000/api/findings
    """
    from ..account_admin import issue_token
    from ..actors import SYSTEM

    with contextlib.closing(store.private()) as db, contextlib.closing(store.evidence()) as evidence_db:
        click.echo(issue_token(db, evidence_db, SYSTEM, username))


# ----------------------------------------------------------------- demo and serving


def _has_review(store: Store) -> bool:
    with contextlib.closing(store.evidence()) as db:
        return db.execute("SELECT count(*) FROM reviews").fetchone()[0] > 0


@cli.command()
@home_option
@click.option("--if-empty", is_flag=True, help="Do nothing (and succeed) when the store already has a review.")
def demo(store: Store, if_empty: bool):
    """Create the fictional Ashbridge demo review and its accounts.

    Example:

    \b
        inspect-kit demo --home /tmp/demo-store
    """
    from ..demo import create_demo

    store.init()
    if if_empty and _has_review(store):
        click.echo(
            f"The store at {store.home} already has a review: demo not created.\n"
            "Its accounts: `inspect-kit user list`; the demo's password is in README.md."
        )
        return
    result = create_demo(store)
    counts = result.counts
    click.echo(
        f"Created the demo review {result.review['title']!r} in {store.home}:"
        f" {counts.get('findings', 0):,} evidence records, {counts.get('chronology_events', 0):,} chronology"
        f" events, {counts.get('safeguarding_alerts', 0)} safeguarding alerts."
    )
    click.echo("Accounts:")
    click.echo(f"  {'username':<12} {'password':<16} {'role':<10} {'strand':<8} inspector")
    for account in result.accounts:
        click.echo(
            f"  {account['username']:<12} {account['password']:<16} {account['role']:<10}"
            f" {account.get('strand') or '-':<8} {account.get('inspector_code') or '-'}"
        )


@cli.command()
@home_option
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535), help="TCP port.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--certfile", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Serve HTTPS with this certificate (PEM; with --keyfile). Session cookies are then marked Secure.")
@click.option("--keyfile", type=click.Path(exists=True, dir_okay=False), default=None,
              help="The certificate's private key (PEM).")
@click.option("--body-timeout", default=BodyLimits.timeout, show_default=True, type=click.FloatRange(min=0.1),
              help="Seconds a request body may take, plus one for every --body-min-rate bytes received; a body "
                   "that falls behind (or pauses for three times this) is answered 408.")
@click.option("--body-min-rate", default=BodyLimits.min_rate, show_default=True, type=click.FloatRange(min=1),
              help="Bytes per second that extend --body-timeout.")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Worker processes serving requests (default: the number of cores this process may use). "
                   "SIGTERM lets each finish its requests; SIGHUP replaces them one at a time.")
def serve(store: Store, port: int, host: str, certfile: str | None, keyfile: str | None, body_timeout: float,
          body_min_rate: float, workers: int | None):
    """Serve the intake app and Datasette (under /data/) on every core.

    Each worker process serves both; everything they share (sign-ins,
    throttling, lock-outs, the last failed write) lives in the store, so it
    does not matter which one answers. With --certfile and --keyfile it serves
    HTTPS, which browsers need for the offline app on any address but
    localhost. Request bodies are read before the app takes them, so a slow
    upload never holds up anyone else.

    Example:

    \b
        inspect-kit serve --home evidence --port 8000
        inspect-kit serve --host 0.0.0.0 --port 8443 --certfile site.pem --keyfile site-key.pem
        inspect-kit serve --workers 4
    """
    import uvicorn

    from ..replication import start_if_configured
    from ..secret import session_secret
    from ..web.health import reset_write_health
    from ..web.server import SERVE_CONFIG_ENV, serve_config

    if not store.exists():
        raise click.ClickException(
            f"No evidence store at {store.home}: run `inspect-kit init` (or `inspect-kit demo`) first."
        )
    applied = store.init()
    if applied:
        click.echo(f"Applied migrations: {', '.join(applied)}.")
    if bool(certfile) != bool(keyfile):
        raise click.UsageError("Give both --certfile and --keyfile to serve HTTPS, or neither.")
    https = certfile is not None
    workers = workers or _usable_cores()
    # uvicorn's own supervisor, not gunicorn with uvicorn-worker: no new
    # dependency and one process model. Since 0.30 it restarts a worker that
    # dies, stops when one fails to start, and on SIGHUP brings each
    # replacement up before retiring the old one; SIGTERM and Ctrl+C let every
    # worker finish its requests (at most GRACEFUL_SECONDS). Its workers are
    # spawned, so each builds its own app from SERVE_CONFIG_ENV.
    os.environ[SERVE_CONFIG_ENV] = serve_config(
        str(store.home.resolve()), secure_cookies=https,
        body_limits=BodyLimits(timeout=body_timeout, min_rate=body_min_rate))
    # The session secret is created here, once, before workers race for it.
    session_secret(store)
    reset_write_health(store.home)  # this server's last failed write: none yet
    scheme = "https" if https else "http"
    click.echo(f"inspect_kit {__version__} serving {store.home} on {scheme}://{host}:{port}/ (Datasette at /data/) "
               f"with {workers} worker process{'es' if workers > 1 else ''}.")
    click.echo("Press Ctrl+C to stop.")
    # reset_contextvars: every request starts in an empty context, so nothing a
    # request's task left behind (CPython issue 140947) reaches the next request
    # on the same connection; see inspect_kit/web/server.py. uvicorn passes it (and
    # the TLS files) to every worker.
    replicator = start_if_configured(store)  # Litestream beside the server, when configured
    if replicator is not None:
        click.echo(f"Replicating evidence.db and private.db to {replicator.target.shown()} (Litestream).")
        # uvicorn re-raises the SIGTERM it stopped on once it has shut down; with the
        # default handler that kills the process before `finally` stops Litestream,
        # and the last second of writes may never reach the replica. As SystemExit,
        # the `finally` below runs: Litestream syncs, then exits.
        signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    try:
        uvicorn.run("inspect_kit.web.server:app_factory", factory=True, workers=workers, host=host, port=port,
                    log_level="warning", lifespan="on", reset_contextvars=True, ssl_certfile=certfile,
                    ssl_keyfile=keyfile, timeout_graceful_shutdown=GRACEFUL_SECONDS,
                    http="inspect_kit.web.server_http:NoDelayH11Protocol")
    finally:
        if replicator is not None:
            replicator.stop()


# How long SIGTERM waits for requests in flight before closing them: an upload
# of the largest attachment at the body limits' slowest allowed pace can take
# longer, but a restart should not wait on it for minutes.
GRACEFUL_SECONDS = 30


def _usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


# ----------------------------------------------------------------- maintenance




@cli.command()
@home_option
@click.argument("destination", type=click.Path(path_type=Path))
def backup(store: Store, destination: Path):
    """Copy the whole store, safely, while it is in use, and verify the copy.

    DESTINATION must be a new or empty folder; it becomes a store you can
    check or serve with --home. The copy is written to a temporary folder,
    verified (both databases, every attachment's size and sha256), then
    renamed into place; if anything fails (a full disk, say) nothing is left
    and the command exits 1.

    Example:

    \b
        inspect-kit backup /media/usb/ashbridge-2026-11-25
    """
    from ..maintenance import backup_store

    progress = ByteProgress("Copying and verifying attachments")
    try:
        report = backup_store(store, destination, progress=progress)
    finally:
        progress.close()
    for name, size in report.databases.items():
        click.echo(f"Copied {name} ({size:,} bytes).")
    click.echo(f"Copied {report.attachments} attachment file(s).")
    click.echo("Verified: both databases pass their integrity and foreign-key checks; every attachment matches"
               " its size and sha256.")
    click.echo(f"Backup complete: {report.destination}")


@cli.command()
@home_option
@click.pass_context
def check(ctx: click.Context, store: Store):
    """Check the store's databases and attachments; exit 1 if anything is wrong.

    Every attachment is read to compare its size and sha256 with its record.
    Files other local users can read are warned about, with the chmod that
    fixes each.

    Example:

    \b
        inspect-kit check --home evidence
    """
    from ..maintenance import check_store

    click.echo(f"Checking the evidence store at {store.home}")
    progress = ByteProgress("Reading attachments")
    try:
        report = check_store(store, progress=progress)
    finally:
        progress.close()
    for section in report.sections:
        state = "FAIL" if section.faults else "WARN" if section.warnings else "ok  "
        click.echo(f"  {state} {section.name}")
        for line in [*section.faults, *section.warnings, *([section.hint] if section.hint else [])]:
            click.echo(f"         {line}")
    if not report.ok:
        click.echo(f"{report.fault_count} problem(s) found.", err=True)
        ctx.exit(1)
    if report.warning_count:
        click.echo(f"The store is consistent, with {report.warning_count} warning(s) to put right.")
    else:
        click.echo("The store is consistent.")


# The commands kept in modules of their own: the Excel ones (export, template,
# import), the report ones (report, verify) and setting up a real review. They
# import only .common.
excel.register(cli)
report.register(cli)
setup.register(cli)
