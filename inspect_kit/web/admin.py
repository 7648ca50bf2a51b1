"""The administrator's pages: set up the review and run accounts,
with the same library as ``inspect-kit`` underneath.

``/admin`` (the review, its status and strands), ``/admin/agencies``,
``/admin/cases`` (the case sample upload), ``/admin/accounts`` (create,
enable, disable, unlock, reset a password, change a role, link to the review,
revoke tokens); ``/admin/status`` for whoever may set the review's status
(the lead too); ``/reset-password`` where an account's owner uses the
one-time code an administrator gave them.

Views only translate: every rule is in :mod:`inspect_kit.roster`,
:mod:`inspect_kit.agencies`, :mod:`inspect_kit.sample`,
:mod:`inspect_kit.lifecycle` and :mod:`inspect_kit.account_admin`; every
permission is the policy's (:data:`inspect_kit.policy.ADMINISTER`,
:data:`inspect_kit.policy.SET_REVIEW_STATUS`). A new account gets no typed
password: it gets a one-time code, shown once, with which its owner chooses
one, so no password is ever seen by two people.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path

from flask import Blueprint, abort, flash, g, redirect, render_template, request, session, url_for
from werkzeug.utils import secure_filename

from .. import account_admin, accounts, agencies, lifecycle, policy, reviews, roster, sample, vocab
from ..errors import InspectKitError, NotFound, ValidationError
from ..excel.importer import WorkbookInvalid
from ..excel.safety import WorkbookRefused
from .auth import login_required, permission_required, review_required
from .db import get_db, get_private_db

bp = Blueprint("admin", __name__)

ADMIN_ONLY = "Setting up the review and its accounts is for administrators."
SHEET_SUFFIXES = (".xlsx", ".csv")


def _admin(view):
    return permission_required(policy.ADMINISTER, ADMIN_ONLY)(view)


def _choices(strands: list[dict]) -> list[tuple[str, str]]:
    return [(strand["code"], strand.get("name") or strand["code"]) for strand in strands]


def _errors(error: InspectKitError) -> dict[str, str]:
    return getattr(error, "field_errors", None) or {"_form": error.message}


# ----------------------------------------------------------------- the review


@bp.get("/admin")
@_admin
def index():
    if g.review is None:
        return redirect(url_for("admin.new_review"))
    review = g.review
    db = get_db()
    return render_template("admin/index.html", review=review, strands=reviews.strands(db),
                           taking_part=roster.review_strand_codes(db, review["id"]),
                           allows=lifecycle.ALLOWS, errors={})


REVIEW_FIELDS = ("slug", "title", "area", "review_type", "framework", "fieldwork_start", "fieldwork_end",
                 "draft_due", "retention_review_on")


@bp.route("/admin/reviews/new", methods=["GET", "POST"])
@_admin
def new_review():
    """Create a review with a shipped framework and its strands; the admin then works in it."""
    from ..frameworks import list_frameworks

    errors: dict[str, str] = {}
    code = 200
    if request.method == "POST":
        form = request.form
        fields = {key: (form.get(key) or "").strip() or None for key in REVIEW_FIELDS}
        missing = {key: "Enter this" for key in ("slug", "title", "area", "review_type", "framework")
                   if not fields[key]}
        if missing:
            errors, code = missing, 422
        else:
            try:
                created = reviews.create_review(get_db(), actor=g.actor, strands=form.getlist("strands") or None,
                                                **fields)
            except InspectKitError as error:
                errors, code = _errors(error), error.status
            except Exception as error:  # sqlite CHECKs on slug and dates: name the field rather than a 500
                if "slug" in str(error) or "date" in str(error) or "CHECK" in str(error):
                    errors, code = {"_form": "Check the short name (lowercase letters, digits and hyphens) and "
                                             "the dates (YYYY-MM-DD, fieldwork end after its start)."}, 422
                else:
                    raise
            else:
                session["review"] = created["slug"]
                flash(f"Created {created['title']}. Add its agencies, accounts and case sample next.")
                return redirect(url_for("admin.index"))
    return render_template("admin/new_review.html", errors=errors, typed=request.form,
                           frameworks=[(f.code, f.title) for f in list_frameworks()],
                           review_types=list(vocab.REVIEW_TYPES.items()), strand_choices=_all_strands()), code


@bp.post("/admin/strands")
@_admin
def strands():
    review = review_required()
    db = get_db()
    try:
        roster.set_review_strands(db, g.actor, review["id"], request.form.getlist("strands"))
    except InspectKitError as error:
        return render_template("admin/index.html", review=review, strands=reviews.strands(db),
                               taking_part=request.form.getlist("strands"), allows=lifecycle.ALLOWS,
                               errors={"strands": error.message}), error.status
    flash("The strands taking part are saved.")
    return redirect(url_for("admin.index"))


@bp.route("/admin/status", methods=["GET", "POST"])
@permission_required(policy.SET_REVIEW_STATUS, "Only the lead inspector or an administrator changes the status.")
def status():
    review = review_required()
    errors: dict[str, str] = {}
    code = 200
    if request.method == "POST":
        try:
            lifecycle.set_status(get_db(), g.actor, review["id"], request.form.get("status", ""),
                                 reason=request.form.get("reason"))
        except InspectKitError as error:
            errors, code = _errors(error), error.status
        else:
            flash("The review's status is changed.")
            return redirect(url_for("admin.status"))
    return render_template("admin/status.html", review=review, order=lifecycle.ORDER, allows=lifecycle.ALLOWS,
                           errors=errors, typed=request.form), code


# ----------------------------------------------------------------- agencies


def _agencies_page(review, errors=None, typed=None, problems=None, code=200):
    db = get_db()
    return render_template("admin/agencies.html", review=review, agencies=agencies.list_agencies(db, review["id"]),
                           strand_choices=_choices(roster.review_strands(db, review["id"])), errors=errors or {},
                           typed=typed or {}, problems=problems or []), code


@bp.get("/admin/agencies")
@_admin
def agencies_index():
    return _agencies_page(review_required())


@bp.post("/admin/agencies")
@_admin
def add_agency():
    review = review_required()
    form = request.form
    try:
        row = agencies.add_agency(get_db(), g.actor, review["id"], name=form.get("name", ""),
                                  agency_type=form.get("agency_type", ""), lead_strand=form.get("lead_strand", ""),
                                  organisation=form.get("organisation"))
    except InspectKitError as error:
        return _agencies_page(review, errors=_errors(error), typed=form, code=error.status)
    flash(f"Added {row['name']}.")
    return redirect(url_for("admin.agencies_index"))


@bp.route("/admin/agencies/<int:agency_id>", methods=["GET", "POST"])
@_admin
def agency(agency_id: int):
    review = review_required()
    db = get_db()
    row = agencies.get_agency(db, review["id"], agency_id)
    errors: dict[str, str] = {}
    code = 200
    if request.method == "POST":
        try:
            if request.form.get("action") in ("retire", "restore"):
                agencies.retire_agency(db, g.actor, review["id"], agency_id,
                                       retired=request.form["action"] == "retire")
            else:
                agencies.edit_agency(db, g.actor, review["id"], agency_id,
                                     **{key: request.form.get(key) for key in
                                        ("name", "organisation", "agency_type", "lead_strand")})
        except InspectKitError as error:
            errors, code = _errors(error), error.status
        else:
            flash("The agency is saved.")
            return redirect(url_for("admin.agencies_index"))
    lead = db.execute("SELECT code FROM strands WHERE id = ?", [row["lead_strand_id"]]).fetchone()[0]
    return render_template("admin/agency.html", review=review, agency=row, lead_strand=lead,
                           strand_choices=_choices(roster.review_strands(db, review["id"])), errors=errors,
                           typed=request.form if request.method == "POST" else {}), code


def _uploaded_sheet():
    """The uploaded sheet in a temporary file, and its name. :raises ValidationError:"""
    upload = request.files.get("sheet")
    name = secure_filename(upload.filename or "") if upload else ""
    if not upload or not name:
        raise ValidationError("Choose an .xlsx or .csv file.", field_errors={"sheet": "Choose an .xlsx or .csv file"})
    if not name.lower().endswith(SHEET_SUFFIXES):
        raise ValidationError("The file must be an .xlsx workbook or a .csv file.",
                              field_errors={"sheet": "The file must be .xlsx or .csv"})
    handle, temporary = tempfile.mkstemp(prefix="inspect-kit-", suffix=Path(name).suffix)
    os.close(handle)
    upload.save(temporary)
    return Path(temporary), name


def _import(run):
    """Run an import of the uploaded sheet: (report, errors, problems, status)."""
    try:
        path, name = _uploaded_sheet()
    except ValidationError as error:
        return None, _errors(error), [], 422
    try:
        return run(path, name), {}, [], 200
    except WorkbookInvalid as error:
        return None, {"sheet": error.message}, error.errors, 422
    except (WorkbookRefused, InspectKitError) as error:
        return None, {"sheet": error.message}, [], error.status
    finally:
        path.unlink(missing_ok=True)


@bp.post("/admin/agencies/import")
@_admin
def import_agencies():
    review = review_required()
    report, errors, problems, code = _import(
        lambda path, name: agencies.import_agencies(get_db(), g.actor, review["id"], path, name=name))
    if report is None:
        return _agencies_page(review, errors=errors, problems=problems, code=code)
    flash(f"Agencies imported: {len(report['added'])} added, {len(report['updated'])} updated, "
          f"{len(report['unchanged'])} unchanged.")
    return redirect(url_for("admin.agencies_index"))


# ----------------------------------------------------------------- the case sample


@bp.get("/admin/cases")
@_admin
def cases():
    review = review_required()
    return render_template("admin/cases.html", review=review, cases=reviews.cases(get_db(), review["id"]),
                           errors={}, problems=[])


@bp.post("/admin/cases/import")
@_admin
def import_cases():
    review = review_required()
    report, errors, problems, code = _import(
        lambda path, name: sample.import_case_sample(get_db(), get_private_db(), g.actor, review["id"], path,
                                                     name=name))
    if report is None:
        return render_template("admin/cases.html", review=review, cases=reviews.cases(get_db(), review["id"]),
                               errors=errors, problems=problems), code
    flash(f"Cases imported: {len(report.added)} added, {len(report.updated)} updated, {len(report.unchanged)} "
          f"unchanged; {report.identifiers} local identifier(s) kept apart from the evidence.")
    return redirect(url_for("admin.cases"))


# ----------------------------------------------------------------- accounts


def _all_strands() -> list[tuple[str, str]]:
    """Every strand an account may have: the store's, or the standard five in a store with no review yet."""
    return _choices(reviews.strands(get_db())) or [(code, name) for code, (name, _) in vocab.DEFAULT_STRANDS.items()]


def _accounts_page(errors=None, typed=None, code=200):
    private_db = get_private_db()
    return render_template("admin/accounts.html", accounts=account_admin.list_accounts(private_db),
                           strand_choices=_all_strands(),
                           roles=vocab.ACCOUNT_ROLES, errors=errors or {}, typed=typed or {}), code


@bp.get("/admin/accounts")
@_admin
def accounts_index():
    return _accounts_page()


@bp.post("/admin/accounts")
@_admin
def add_account():
    form = request.form
    review = g.review
    try:
        account = account_admin.create_account(
            get_private_db(), get_db(), g.actor, username=form.get("username", "").strip(),
            password=secrets.token_urlsafe(32), role=form.get("role", ""), strand=form.get("strand") or None,
            inspector_code=form.get("inspector_code") or None, review_id=review["id"] if review else None)
        reset = account_admin.issue_password_reset(get_private_db(), get_db(), g.actor, account["username"])
    except InspectKitError as error:
        return _accounts_page(errors=_errors(error), typed=form, code=error.status)
    return render_template("admin/code.html", account=account, reset=reset, created=True)


def _account_page(username: str, errors=None, code=200):
    private_db = get_private_db()
    rows = [row for row in account_admin.list_accounts(private_db) if row["username"] == username]
    if not rows:
        abort(404, f"No account called {username!r}.")
    return render_template("admin/account.html", account=rows[0], tokens=account_admin.list_tokens(private_db, username),
                           strand_choices=_all_strands(), roles=vocab.ACCOUNT_ROLES, errors=errors or {}), code


@bp.get("/admin/accounts/<username>")
@_admin
def account(username: str):
    return _account_page(username)


@bp.post("/admin/accounts/<username>/<action>")
@_admin
def account_action(username: str, action: str):
    private_db, db = get_private_db(), get_db()
    try:
        if action == "enable":
            account_admin.enable_account(private_db, db, g.actor, username)
            flash(f"{username} can sign in again.")
        elif action == "disable":
            account_admin.disable_account(private_db, db, g.actor, username)
            flash(f"{username} can no longer sign in.")
        elif action == "unlock":
            forgotten = account_admin.unlock_account(private_db, db, g.actor, username)
            flash(f"{username} can sign in again at once ({forgotten} failed attempt(s) forgotten).")
        elif action == "role":
            account_admin.change_role(private_db, db, g.actor, username, role=request.form.get("role", ""),
                                      strand=request.form.get("strand") or None)
            flash(f"{username}'s role is changed.")
        elif action == "link":
            review = review_required()
            row = roster.link_inspector(db, private_db, g.actor, review_id=review["id"], username=username,
                                        code=request.form.get("inspector_code") or None)
            flash(f"{username} is the inspector {row['code']} in this review.")
        elif action == "reset":
            reset = account_admin.issue_password_reset(private_db, db, g.actor, username)
            return render_template("admin/code.html", account={"username": username}, reset=reset, created=False)
        else:
            abort(404)
    except NotFound:
        abort(404, f"No account called {username!r}.")
    except InspectKitError as error:
        return _account_page(username, errors=_errors(error), code=error.status)
    return redirect(url_for("admin.account", username=username))


@bp.post("/admin/tokens/<int:token_id>/revoke")
@_admin
def revoke_token(token_id: int):
    row = account_admin.revoke_token(get_private_db(), get_db(), g.actor, token_id)
    flash(f"Token {token_id} of {row['username']} is revoked.")
    return redirect(url_for("admin.account", username=row["username"]))


# ----------------------------------------------------------------- the owner's side of a reset


@bp.route("/reset-password", methods=["GET", "POST"])
def reset_password():
    errors: dict[str, str] = {}
    code = 200
    if request.method == "POST":
        form = request.form
        if form.get("password") != form.get("confirm"):
            errors, code = {"confirm": "The two passwords are not the same"}, 422
        else:
            try:
                account_admin.redeem_password_reset(get_private_db(), get_db(), form.get("username", ""),
                                                    form.get("code", ""), form.get("password", ""))
            except InspectKitError as error:
                errors, code = _errors(error), (422 if isinstance(error, ValidationError) else error.status)
            else:
                flash("Your password is set. Sign in with it now.")
                return redirect(url_for("auth.login"))
    return render_template("admin/reset_password.html", errors=errors,
                           typed={"username": request.form.get("username", "")}), code


# ----------------------------------------------------------------- the review switcher


@bp.route("/reviews", methods=["GET", "POST"])
@login_required
def switch_review():
    """The reviews this account may open; choosing one scopes every page to it."""
    account = accounts.get_account(get_private_db(), g.actor.username)
    open_to = roster.reviews_of_account(get_db(), account)
    if request.method == "POST":
        slug = request.form.get("review", "")
        if slug not in {review["slug"] for review in open_to}:
            abort(404, "No such review.")
        session["review"] = slug
        flash(f"You are now working in {next(r['title'] for r in open_to if r['slug'] == slug)}.")
        return redirect(url_for("dashboard.index"))
    return render_template("admin/reviews.html", reviews=open_to)


# ----------------------------------------------------------------- the audit log


def _review_id() -> int:
    """The chosen review's id (-1 in a store with none: no review's rows then)."""
    return g.review["id"] if g.review else -1


@bp.get("/audit")
@login_required
def audit_log():
    """The audit log, filtered by who, what, record and date; columns as the policy allows."""
    from .. import audit_search

    audit_search.columns_for(g.actor)  # 403 before anything is read
    errors: dict[str, str] = {}
    try:
        audit_filter = audit_search.AuditFilter.from_args(request.args, _review_id())
    except ValidationError as error:
        errors, audit_filter = _errors(error), audit_search.AuditFilter(review_id=_review_id())
    page = max(1, request.args.get("page", 1, type=int) or 1)
    rows, total = audit_search.search(get_db(), g.actor, audit_filter, limit=audit_search.PAGE_SIZE,
                                      offset=(page - 1) * audit_search.PAGE_SIZE)
    return render_template("admin/audit.html", rows=rows, total=total, page=page,
                           pages=max(1, -(-total // audit_search.PAGE_SIZE)),
                           columns=audit_search.columns_for(g.actor), choices=audit_search.choices(get_db()),
                           typed=request.args, errors=errors), (400 if errors else 200)


@bp.get("/audit.xlsx")
@login_required
def audit_workbook():
    from .. import audit_search
    from .downloads import send_and_remove, temporary_file

    audit_search.columns_for(g.actor)
    audit_filter = audit_search.AuditFilter.from_args(request.args, _review_id())
    path = temporary_file()
    try:
        audit_search.export_audit_workbook(get_db(), g.actor, audit_filter, path)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return send_and_remove(path, "audit-log.xlsx")
