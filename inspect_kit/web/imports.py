"""Excel in the intake app: the capture workbook (download, fill offline,
upload) and the review's evidence workbook, holding what the exporter may read
(:func:`inspect_kit.policy.export_scope`: an inspector's holds their strand's findings).

Views only translate: the checks, the import and the workbooks themselves are
in :mod:`inspect_kit.excel`. ``EXCEL_IMPORT_MAX_ROWS`` (app config, default
10,000) caps the filled rows of an uploaded workbook. At most
``EXCEL_IMPORT_CONCURRENCY`` (default 2) workbooks are checked and imported
at once; another upload waits up to ``EXCEL_IMPORT_WAIT_SECONDS`` (default 60)
for its turn, then is asked to try again. With the memory limits of
:mod:`inspect_kit.excel.safety` this bounds what uploads can cost the server,
however many arrive together (bench/hostile_uploads.py measures it). An upload is written to a temporary file (openpyxl
reads files, and the safety checks look at the zip before openpyxl opens it)
and removed afterwards; a workbook download is written to a temporary file
and removed once sent.
"""

from __future__ import annotations

import threading

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_wtf.file import FileField
from govuk_frontend_wtf.wtforms_widgets import GovCheckboxInput, GovFileInput
from werkzeug.utils import secure_filename
from wtforms import BooleanField

from .. import policy, reviews, roster
from ..errors import InspectKitError, StorageFault
from ..excel.capture import TEMPLATE_VERSION, write_capture_template
from ..excel.evidence import EvidenceFilter, export_evidence_workbook
from ..excel.evidence import export_filename as evidence_filename
from ..excel.importer import ImportLimits, WorkbookInvalid, WorkbookRefused, import_capture_workbook
from .auth import login_required, permission_required, review_required
from .db import get_db
from .downloads import send_and_remove, temporary_file
from .errors import note_storage_fault
from .forms import GovForm

bp = Blueprint("imports", __name__, url_prefix="/excel")

IMPORT_GATE_EXTENSION = "inspect_kit.import_gate"


class WorkbookUploadForm(GovForm):
    """Upload a filled capture workbook."""

    workbook = FileField("Capture workbook", widget=GovFileInput(),
                         description="The .xlsx file you downloaded from this page and filled in")
    partial = BooleanField("Import the rows that pass even if some rows have problems", widget=GovCheckboxInput(),
                           description="Leave this unticked to import nothing until every row is right")


class ImportsBusy(InspectKitError):
    """Every import slot stayed taken while this upload waited."""

    status = 503


def _import_gate() -> threading.BoundedSemaphore:
    # setdefault is atomic, so two first requests share one semaphore.
    return current_app.extensions.setdefault(
        IMPORT_GATE_EXTENSION, threading.BoundedSemaphore(current_app.config.get("EXCEL_IMPORT_CONCURRENCY", 2)))


def _page(form: WorkbookUploadForm, *, problems: list | None = None, refused: str | None = None,
          summary: str | None = None, status: int = 200):
    review = review_required()
    db = get_db()
    scope = policy.export_scope(g.actor)
    return render_template(
        "imports/index.html", form=form, problems=problems or [], refused=refused, summary=summary,
        template_version=TEMPLATE_VERSION, may_import=policy.may_record_findings(g.actor),
        may_export=scope is not False,
        strands=[strand for strand in roster.review_strands(db, review["id"]) if scope is True or strand["code"] == scope],
        cases=reviews.cases_to_choose(db, review["id"], g.actor.inspector_id)), status


@bp.get("/")
@login_required
def index():
    return _page(WorkbookUploadForm())


@bp.get("/capture.xlsx")
@login_required
def capture_workbook():
    """A capture workbook for the signed-in inspector (or a blank one for others)."""
    review = review_required()
    db = get_db()
    code = reviews.inspector(db, g.actor.inspector_id)["code"] if g.actor.inspector_id else None
    path = temporary_file()
    try:
        write_capture_template(db, review["id"], path, inspector_code=code, actor=g.actor)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    suffix = f"-{code}" if code else ""
    return send_and_remove(path, f"{review['slug']}-capture{suffix}.xlsx")


@bp.post("/")
@login_required
def upload():
    """Check and import an uploaded capture workbook; every problem is listed, nothing half-stored."""
    review = review_required()
    form = WorkbookUploadForm()
    if not form.validate_on_submit():
        return _page(form, status=400)
    upload = form.workbook.data
    if upload is None or not upload.filename:
        form.show_errors({"workbook": "Select the workbook to import"})
        return _page(form, status=422)
    name = secure_filename(upload.filename) or "workbook.xlsx"
    path = temporary_file()
    try:
        upload.save(path)
        limits = ImportLimits(
            max_file_bytes=current_app.config.get("MAX_CONTENT_LENGTH") or ImportLimits.max_file_bytes,
            max_rows=current_app.config.get("EXCEL_IMPORT_MAX_ROWS", ImportLimits.max_rows))
        gate = _import_gate()
        if not gate.acquire(timeout=current_app.config.get("EXCEL_IMPORT_WAIT_SECONDS", 60)):
            raise ImportsBusy("Other workbooks are being imported right now, so this one was not checked and "
                              "nothing was stored. Try again in a minute.")
        try:
            report = import_capture_workbook(get_db(), g.actor, review["id"], path, name=name, limits=limits,
                                             partial=bool(form.partial.data))
        finally:
            gate.release()
    except WorkbookInvalid as invalid:
        return _page(form, problems=invalid.errors, summary=invalid.message, status=422)
    except WorkbookRefused as refused:
        form.show_errors({"workbook": refused.message})
        return _page(form, refused=refused.message, status=400)
    except InspectKitError as error:
        if isinstance(error, StorageFault):
            note_storage_fault(error)
        form.show_errors({"workbook": error.message})
        return _page(form, refused=error.message, status=error.status)
    finally:
        path.unlink(missing_ok=True)
    flash(report.summary())
    if report.skipped:
        return _page(WorkbookUploadForm(), problems=report.skipped,
                     summary=f"{len(report.skipped)} problem(s) in rows that were not imported:")
    return redirect(url_for("imports.index"))


@bp.get("/evidence.xlsx")
@permission_required(policy.EXPORT_EVIDENCE, "Administrators run the system and export no case content.")
def evidence_workbook():
    """The review's evidence workbook, filtered by ``accepted_only``, ``strand`` and ``case``."""
    review = review_required()
    wanted = EvidenceFilter(accepted_only=request.args.get("accepted_only") in ("1", "on", "yes"),
                            strand=request.args.get("strand") or None,
                            case_ref=request.args.get("case") or None)
    path = temporary_file()
    download_name = evidence_filename(review["slug"])
    try:
        exported = export_evidence_workbook(get_db(), g.actor, review["id"], path, wanted=wanted,
                                            source=f"intake app: {request.full_path.rstrip('?')}",
                                            file_name=download_name)
    except StorageFault:
        path.unlink(missing_ok=True)
        raise  # answered 507 with what to do by the disk-fault handler (web/errors.py)
    except InspectKitError as error:
        path.unlink(missing_ok=True)
        abort(error.status, error.message)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    response = send_and_remove(path, download_name)
    if exported.manifest:  # its sha256, to check a copy later with `inspect-kit verify --file`
        response.headers["X-Inspect-Kit-Sha256"] = exported.manifest["sha256"]
    return response
