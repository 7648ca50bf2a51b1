"""Files attached to a finding: upload from the finding's page, download as
an attachment (never shown inline) by those who may see the finding."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, g, redirect, send_file, url_for

from .. import attachments
from ..errors import StorageFault, ValidationError
from .auth import login_required
from .db import get_db, get_store
from .errors import note_storage_fault
from .findings import render_finding, review_finding
from .forms import AttachmentForm

bp = Blueprint("attachments", __name__)


@bp.post("/findings/<public_id>/attachments")
@login_required
def upload(public_id: str):
    db = get_db()
    finding = review_finding(public_id)
    form = AttachmentForm()
    upload = form.file.data
    try:
        if upload is None or not upload.filename:
            raise ValidationError("Select a file to attach", field_errors={"file": "Select a file to attach"})
        limit = current_app.config["MAX_ATTACHMENT_BYTES"]
        # Read one byte past the cap so an oversized file is refused without reading it all.
        try:
            content = upload.stream.read(limit + 1)
        finally:
            upload.close()  # large uploads are spooled to a temporary file
        attachment = attachments.add_attachment(db, get_store(), g.actor, finding["id"], filename=upload.filename,
                                                content=content, max_bytes=limit)
    except ValidationError as error:
        form.show_errors(error.field_errors or {"file": error.message})
        return render_finding(finding, attachment_form=form, status=422)
    except StorageFault as fault:
        note_storage_fault(fault)
        form.show_errors({"file": fault.message + " Nothing was attached; attach the file again once the disk "
                                                  "has been put right."})
        return render_finding(finding, attachment_form=form, status=fault.status)
    flash(f"{attachment['filename']} is attached to {public_id}.")
    return redirect(url_for("findings.show", public_id=public_id) + "#attachments")


@bp.get("/attachments/<int:attachment_id>")
@login_required
def download(attachment_id: int):
    db = get_db()
    # Only files of the current review's findings (review_finding raises 404 otherwise).
    review_finding(attachments.get_attachment(db, attachment_id)["finding_id"])
    attachment, path = attachments.open_attachment(db, get_store(), g.actor, attachment_id)
    response = send_file(path, mimetype=attachment["media_type"], as_attachment=True,
                         download_name=attachment["filename"], max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response
