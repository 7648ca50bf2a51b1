"""What every template can use: the controlled vocabularies' labels, the
navigation for the signed-in role, and a few display filters."""

from __future__ import annotations

import datetime as dt

from flask import Flask, current_app, g, request, url_for

from .. import fields, judgements, policy, vocab

LABELS = {
    "activity": vocab.ACTIVITIES,
    "finding_type": vocab.FINDING_TYPES,
    "impact_on_child": vocab.IMPACTS_ON_CHILD,
    "qa_status": vocab.QA_STATUSES,
    "qa_action": vocab.QA_ACTIONS,
    "event_type": vocab.EVENT_TYPES,
    "date_precision": vocab.DATE_PRECISIONS,
    "alert_status": vocab.ALERT_STATUSES,
    "urgency": vocab.ALERT_URGENCIES,
    "role": vocab.ACCOUNT_ROLES,
    "age_band": vocab.AGE_BANDS,
    "legal_status": vocab.LEGAL_STATUSES,
    "selection_route": vocab.SELECTION_ROUTES,
    "review_status": vocab.REVIEW_STATUSES,
    "relevance": vocab.RELEVANCES,
    "agency_type": vocab.AGENCY_TYPES,
    "media_type": vocab.ATTACHMENT_TYPES,
}

# GOV.UK tag colours for QA and alert states: colour is never the only signal,
# the tag always carries the status in words.
TAG_CLASSES = {
    "draft": "govuk-tag--grey", "submitted": "govuk-tag--blue", "returned": "govuk-tag--orange",
    "accepted": "govuk-tag--green", "withdrawn": "govuk-tag--grey",
    "raised": "govuk-tag--red", "referred": "govuk-tag--orange", "responded": "govuk-tag--blue",
    "closed": "govuk-tag--grey", "urgent": "govuk-tag--red", "routine": "govuk-tag--grey",
}

# A finding's fields as its pages name them: the registry's labels.
FIELD_LABELS = {
    **{spec.name: spec.label for spec in fields.FINDING},
    "criteria": "Framework criteria", "qa_status": "QA status",
}


def label(code, kind: str) -> str:
    """The words for a vocabulary code (the code itself when unknown)."""
    if code is None or code == "":
        return "Not recorded"
    return LABELS.get(kind, {}).get(code, str(code))


def nice_date(value) -> str:
    """``2008-03-27`` → ``27 March 2008`` (GOV.UK date style); timestamps keep their time."""
    if not value:
        return ""
    text = str(value)
    try:
        if len(text) == 10:
            return dt.date.fromisoformat(text).strftime("%-d %B %Y")
        moment = dt.datetime.fromisoformat(text)
        return moment.strftime("%-d %B %Y %H:%M")
    except ValueError:
        return text


def navigation() -> list[dict]:
    """The service navigation links for the signed-in actor's role."""
    actor = g.get("actor")
    if actor is None:
        return []
    # Each link shows when the policy lets the actor open its page.
    items = [("dashboard.index", "Dashboard")]
    if policy.finding_strands(actor) is not False:
        items.append(("findings.index", "Evidence records"))
        items.append(("coverage.index", "Coverage"))
    if policy.may(actor, policy.READ_CHRONOLOGIES):
        items.append(("cases.index", "Cases"))
    if policy.may(actor, policy.READ_ALERTS):
        items.append(("alerts.index", "Safeguarding alerts"))
    if policy.may(actor, policy.QA_FINDINGS):
        items.append(("qa.queue", "QA queue"))
    if judgements.may_read(actor):
        items.append(("judgements.index", "Judgements"))
    items.append(("imports.index", "Excel"))
    if policy.audit_columns(actor):
        items.append(("admin.audit_log", "Audit log"))
    if policy.may(actor, policy.ADMINISTER):
        items.append(("admin.index", "Set-up"))
    elif policy.may(actor, policy.SET_REVIEW_STATUS):
        items.append(("admin.status", "Review status"))
    links = []
    for endpoint, text in items:
        if endpoint not in current_app.view_functions:
            continue  # an area not installed in this app
        href = url_for(endpoint)
        active = request.endpoint == endpoint or (
            request.endpoint or "").split(".")[0] == endpoint.split(".")[0] and endpoint != "dashboard.index"
        links.append({"href": href, "text": text, "active": active})
    links.append({"href": "/data/", "text": "Cross-read (Datasette)"})
    return links


def init_app(app: Flask) -> None:
    app.add_template_filter(label)
    app.add_template_filter(nice_date)
    app.add_template_global(navigation)
    app.add_template_global(TAG_CLASSES, "tag_classes")
    app.add_template_global(FIELD_LABELS, "field_labels")
    app.add_template_global(vocab, "vocab")
    app.add_template_global(policy, "policy")
    app.add_template_global(lambda: dt.date.today().isoformat(), "today_iso")

    @app.context_processor
    def assets():
        return {"assets_ready": current_app.config.get("GOVUK_ASSETS_READY", False),
                "charts_ready": current_app.config.get("CHARTS_READY", False)}
