"""The role × resource walk.

Every Flask route (from ``app.url_map``) and every Datasette table, view,
row page, canned query and ``/-/`` endpoint is requested by anonymous, each
strand's inspector (ofsted, health, police), the lead, the moderator and the
administrator, through the one-process server in-process. Each cell's
expected status comes from :mod:`inspect_kit.policy` (its predicates and its
Datasette tables), never typed again here; and every response body is
searched for the marker words planted in each strand's findings: no text of
a finding outside the reader's strand, and nothing of another review, may
appear anywhere. Datasette pages are also asked with the parameters an
attacker would add (percent-encoded, repeated, ``_fts_table``, ``_where``,
``_extras``, ``_through``, ``sql``, facets on columns a page lacks, another
review), which must be refused for those who may not write SQL
(``tests/test_access_walk_attacks.py``). The world and the helpers are in ``tests/access_walk.py``.
"""

from __future__ import annotations

import contextlib
from typing import Any

from inspect_kit import policy
from inspect_kit.actors import Actor

from .access_walk import (
    ATTACKS,
    CASE,
    MARKERS,
    OTHER_REVIEW_CASE,
    PDF,
    WHO,
    World,
    allowed,
    datasette_pages,
    fetch,
    leaks,
    status_matches,
)

# ------------------------------------------------------------------ the intake app (Flask)

def anonymous(route: str) -> int:
    """Anonymous visitors: sent to sign in (pages) or asked for credentials (the API)."""
    return 401 if route.startswith("/api/") else 302


def finding_page(world: World, actor: Actor | None, sample: str, rule=policy.may_read_finding) -> int:
    """Another review's finding is a 404 for every caller; otherwise the policy's predicate decides."""
    if sample == "other-review":
        return 404
    return allowed(rule(actor, world.finding[sample]))


def flask_samples(world: World) -> dict[str, list[tuple[str, Any]]]:
    """endpoint → [(path, expectation(actor) → status)] for every GET route of the intake app."""
    strands = [*MARKERS, "other-review"]

    def public_id(sample: str) -> str:
        return world.other_finding["public_id"] if sample == "other-review" else world.finding[sample]["public_id"]

    def attachment_id(sample: str) -> int:
        return world.other_attachment if sample == "other-review" else world.attachment[sample]

    def in_review(ok: bool, current: bool) -> int:
        return 403 if not ok else (200 if current else 404)

    reads_findings = lambda actor: policy.finding_strands(actor) is not False  # noqa: E731
    administers = lambda actor: allowed(policy.may(actor, policy.ADMINISTER))  # noqa: E731
    with contextlib.closing(world.store.evidence()) as db:
        agency_pages = [(agency_id, name.startswith("Testshire")) for agency_id, name in db.execute(
            "SELECT id, name FROM agencies WHERE name IN ('Testshire MASH', 'Otherton MASH')")]
        criterion = db.execute("SELECT code FROM criteria WHERE review_id = (SELECT max(id) FROM reviews)"
                               " ORDER BY position LIMIT 1").fetchone()[0]

    def coverage_cell(actor: Actor | None, strand: str) -> int:
        """A cell of a strand the reader may not read is refused, as that strand's findings are."""
        return allowed(policy.finding_strands(actor) in (True, strand))

    return {
        # Set-up and accounts: administrators; the review's status: whoever may set it (the lead too).
        "admin.index": [("/admin", administers)],
        "admin.agencies_index": [("/admin/agencies", administers)],
        "admin.agency": [(f"/admin/agencies/{agency_id}", lambda actor, current=current: in_review(
            policy.may(actor, policy.ADMINISTER), current)) for agency_id, current in agency_pages],
        "admin.cases": [("/admin/cases", administers)],
        "admin.accounts_index": [("/admin/accounts", administers)],
        "admin.account": [("/admin/accounts/police", administers)],
        "admin.status": [("/admin/status", lambda actor: allowed(policy.may(actor, policy.SET_REVIEW_STATUS)))],
        "admin.switch_review": [("/reviews", lambda actor: 200)],
        "admin.new_review": [("/admin/reviews/new", administers)],
        # The audit log: leads and moderators whole, administrators who/when/what (policy.audit_columns).
        "admin.audit_log": [("/audit", lambda actor: allowed(bool(policy.audit_columns(actor)))),
                            ("/audit?what=finding.create", lambda actor: allowed(bool(policy.audit_columns(actor))))],
        "admin.audit_workbook": [("/audit.xlsx", lambda actor: allowed(bool(policy.audit_columns(actor))))],
        "dashboard.index": [("/", lambda actor: 200)],
        # Searched and filtered: another strand's records are not found by asking for them.
        "findings.index": [(path, lambda actor: allowed(reads_findings(actor))) for path in (
            "/findings", "/findings?strand=police&type=strength", f"/findings?q={CASE}&case={CASE}&page=2",
            "/findings?q=file+shows")],
        "findings.new": [("/findings/new", lambda actor: allowed(policy.may_record_findings(actor)))],
        "findings.show": [(f"/findings/{public_id(s)}", lambda actor, s=s: finding_page(world, actor, s))
                          for s in strands],
        "findings.history": [(f"/findings/{public_id(s)}/history", lambda actor, s=s: finding_page(world, actor, s))
                             for s in strands],
        "findings.edit": [(f"/findings/{public_id(s)}/edit", lambda actor, s=s: finding_page(
            world, actor, s, lambda a, f: policy.may_read_finding(a, f) and policy.may_edit_text(a, f)))
            for s in strands],
        "attachments.download": [(f"/attachments/{attachment_id(s)}", lambda actor, s=s: finding_page(world, actor, s))
                                 for s in strands],
        "coverage.index": [("/coverage", lambda actor: allowed(reads_findings(actor)))],
        "coverage.data": [("/coverage.json", lambda actor: allowed(reads_findings(actor)))],
        "coverage.balance": [("/coverage/balance", lambda actor: allowed(reads_findings(actor)))],
        "coverage.cell": [(f"/coverage/{strand}/{criterion}", lambda actor, strand=strand: coverage_cell(actor, strand))
                          for strand in MARKERS],
        "qa.queue": [(path, lambda actor: allowed(policy.may(actor, policy.QA_FINDINGS)))
                     for path in ("/qa", "/qa?strand=police&sort=case", f"/qa?case={CASE}&inspector=POL-01")],
        "cases.index": [("/cases", lambda actor: allowed(policy.may(actor, policy.READ_CHRONOLOGIES)))],
        "cases.show": [(f"/cases/{ref}", lambda actor, ref=ref: in_review(
            policy.may(actor, policy.READ_CHRONOLOGIES), ref == CASE)) for ref in (CASE, OTHER_REVIEW_CASE)],
        "cases.new_event": [(f"/cases/{ref}/events/new", lambda actor, ref=ref: in_review(
            policy.may(actor, policy.WRITE_CHRONOLOGIES) and policy.may_write_chronology(actor), ref == CASE))
            for ref in (CASE, OTHER_REVIEW_CASE)],
        "alerts.index": [("/alerts", lambda actor: allowed(policy.may(actor, policy.READ_ALERTS)))],
        "alerts.new": [(f"/alerts/new?case={CASE}", lambda actor: allowed(policy.may(actor, policy.RAISE_ALERTS)))]
        + [(f"/alerts/new?finding={public_id(s)}", lambda actor, s=s: 403 if not policy.may(
            actor, policy.RAISE_ALERTS) else finding_page(world, actor, s)) for s in strands],
        "alerts.show": [(f"/alerts/{alert}", lambda actor, alert=alert: in_review(
            policy.may(actor, policy.READ_ALERTS), alert == world.alert)) for alert in (world.alert, world.other_alert)],
        "api.openapi": [("/api/openapi.json", lambda actor: 200)],
        "api.index": [("/api/", lambda actor: 200)],
        "api.list_findings": [("/api/findings", lambda actor: allowed(reads_findings(actor))),
                              ("/api/findings?review=otherton", lambda actor: 404),
                              ("/api/findings?review=testshire", lambda actor: allowed(reads_findings(actor)))],
        "api.read_finding": [(f"/api/findings/{public_id(s)}", lambda actor, s=s: finding_page(world, actor, s))
                             for s in strands]
        + [(f"/api/findings/{public_id('police')}?review=otherton", lambda actor: 404)],
        "api.read_event": [(f"/api/chronology/{event}", lambda actor, event=event: in_review(
            policy.may(actor, policy.READ_CHRONOLOGIES), event == world.event))
            for event in (world.event, world.other_event)],
        "api.case_chronology": [(f"/api/cases/{ref}/chronology", lambda actor, ref=ref: in_review(
            policy.may(actor, policy.READ_CHRONOLOGIES), ref == CASE)) for ref in (CASE, OTHER_REVIEW_CASE)],
        "imports.index": [("/excel/", lambda actor: 200)],
        # Judgements: leads and moderators read them; the lead builds the draft report.
        "judgements.index": [("/judgements", lambda actor: allowed(policy.may(actor, policy.READ_JUDGEMENTS)))],
        "judgements.workspace": [("/judgements/2.1", lambda actor: allowed(policy.may(actor, policy.READ_JUDGEMENTS)))],
        "judgements.history": [("/judgements/2.1/history",
                                lambda actor: allowed(policy.may(actor, policy.READ_JUDGEMENTS)))],
        "judgements.draft_report": [("/report/draft.docx",
                                     lambda actor: allowed(policy.may(actor, policy.PROPOSE_JUDGEMENTS)))],
        "api.judgements.list_judgements": [("/api/judgements",
                                            lambda actor: allowed(policy.may(actor, policy.READ_JUDGEMENTS)))],
        "api.judgements.read_judgement": [("/api/judgements/2.1",
                                           lambda actor: allowed(policy.may(actor, policy.READ_JUDGEMENTS)))],
        "api.judgements.judgement_history": [("/api/judgements/2.1/history",
                                              lambda actor: allowed(policy.may(actor, policy.READ_JUDGEMENTS)))],
        # The offline outbox and the lists it keeps: for those who record their own evidence.
        "offline.outbox": [("/offline/outbox", lambda actor: allowed(policy.may_record_findings(actor)))],
        "offline.reference": [("/offline/reference.json", lambda actor: allowed(policy.may_record_findings(actor)))],
        # Who is signed in, for the outbox before it sends: a JSON 401 when nobody is.
        "offline.session_state": [("/offline/session", lambda actor: 401 if actor is None else 200)],
        "imports.capture_workbook": [("/excel/capture.xlsx", lambda actor: 200)],
        "imports.evidence_workbook": [("/excel/evidence.xlsx", lambda actor: allowed(policy.may(
            actor, policy.EXPORT_EVIDENCE)))] + [(f"/excel/evidence.xlsx?strand={strand}", lambda actor, strand=strand:
                                                  allowed(policy.export_scope(actor) in (True, strand)))
                                                 for strand in MARKERS],
    }


# Routes anyone may use, signed in or not, and POST-only routes (walked in test_flask_posts).
PUBLIC = {"static", "health.healthz", "health.status", "auth.login", "auth.logout",
          "offline.service_worker", "offline.manifest",  # the worker's script and the manifest hold no evidence
          "admin.reset_password"}  # its credential is the one-time code an administrator gave
NO_AUTH_NEEDED = {"api.openapi", "api.index", "offline.session_state"}
POST_ONLY = {"attachments.upload", "qa.act", "alerts.move", "api.record_finding", "api.edit_finding", "api.qa_finding",
             "api.record_event", "imports.upload", "judgements.propose", "judgements.moderate",
             "api.judgements.propose_judgement", "api.judgements.moderate_judgement",
             "admin.strands", "admin.add_agency", "admin.import_agencies", "admin.import_cases", "admin.add_account",
             "admin.account_action", "admin.revoke_token"}


def test_every_route_is_walked(world):
    """A new route without samples here fails: the walk covers the whole url_map."""
    endpoints = {rule.endpoint for rule in world.server.flask.url_map.iter_rules()}
    walked = set(flask_samples(world)) | PUBLIC | POST_ONLY
    assert endpoints == walked


async def test_flask_walk(world):
    """Every GET route × every role: the status the policy gives, and no text the reader may not see."""
    wrong, leaked = [], []
    for endpoint, samples in flask_samples(world).items():
        for path, expect in samples:
            for who in WHO:
                actor = world.actors[who]
                expected = expect(actor) if actor is not None or endpoint in NO_AUTH_NEEDED else anonymous(path)
                response = await fetch(world, who, path)
                if response.status_code != expected:
                    wrong.append(f"{who:10} GET {path}: {response.status_code}, policy says {expected}")
                if found := leaks(world, who, response, datasette=False):
                    leaked.append(f"{who:10} GET {path}: {found}")
    assert not wrong, "\n".join(wrong)
    assert not leaked, "\n".join(leaked)



# ------------------------------------------------------------------ Datasette

async def test_datasette_walk(world):
    """Every Datasette page × every role: the policy's status, and no other strand's text."""
    wrong, leaked = [], []
    for path, expect in await datasette_pages(world):
        for who in WHO:
            response = await fetch(world, who, path)
            expected = expect(world.actors[who])
            if not status_matches(path, expected, response.status_code):
                wrong.append(f"{who:10} {path}: {response.status_code}, policy says {expected}")
            if found := leaks(world, who, response, datasette=True):
                leaked.append(f"{who:10} {path}: {found}")
    assert not wrong, "\n".join(wrong)
    assert not leaked, "\n".join(leaked)



async def test_anonymous_gets_nothing_whatever_it_adds(world):
    for path, _ in await datasette_pages(world):
        for attack, _refusal in ATTACKS[:4]:
            url = path + ("&" if "?" in path else "?") + attack
            response = await fetch(world, "anonymous", url)
            assert response.status_code == 403, url
            assert not leaks(world, "anonymous", response, datasette=True), url



# ------------------------------------------------------------------ changes (last: they write)

def post_cells(world: World) -> list[tuple[str, str, dict, Any]]:
    """(who may, path, form, expectation(actor) → allowed?) for the POST routes that change evidence."""
    cells = []
    for strand in MARKERS:
        finding = world.finding[strand]
        cells.append((f"/findings/{finding['public_id']}/attachments", "upload", finding,
                      lambda actor, f=finding: policy.may_read_finding(actor, f) and policy.may_attach(actor, f)))
        cells.append((f"/findings/{finding['public_id']}/qa", "return", finding,
                      lambda actor, f=finding: policy.may_read_finding(actor, f) and policy.may_qa(actor, f, "return")))
    cells.append((f"/alerts/{world.alert}/refer", "refer", {}, lambda actor: policy.may(actor, policy.PROGRESS_ALERTS)))
    cells.append(("/judgements/2.1", "propose", {}, lambda actor: policy.may(actor, policy.PROPOSE_JUDGEMENTS)))
    cells.append(("/judgements/2.1/moderate", "moderate", {},
                  lambda actor: policy.may(actor, policy.MODERATE_JUDGEMENTS)))
    administers = lambda actor: policy.may(actor, policy.ADMINISTER)  # noqa: E731
    # Set-up posts with empty forms (refused as 422, or harmless), so the walk changes no account it signs in with.
    for path in ("/admin/strands", "/admin/agencies", "/admin/agencies/import", "/admin/cases/import",
                 "/admin/accounts", "/admin/accounts/police/unlock", "/admin/accounts/police/role"):
        cells.append((path, "set-up", {}, administers))
    cells.append(("/admin/status", "set-up", {}, lambda actor: policy.may(actor, policy.SET_REVIEW_STATUS)))
    cells.append(("/admin/reviews/new", "set-up", {}, administers))
    return cells


async def test_flask_posts(world):
    """Who may change what: refused cells are 403 and change nothing; allowed ones are not refused."""
    wrong = []
    for path, kind, _record, expect in post_cells(world):
        for who in WHO[1:]:
            actor = world.actors[who]
            form: dict[str, Any] = {"csrf_token": world.csrf[who]}
            files = None
            if kind == "upload":
                files = {"file": ("note.pdf", PDF + b"walk", "application/pdf")}
            elif kind == "return":
                form |= {"action": "return", "comment": "Please add the source."}
            elif kind == "refer":
                form |= {"referred_to": "MASH duty manager"}
            elif kind == "propose":
                form |= {"proposed_grade": "2", "narrative": "Walked judgement narrative."}
            elif kind == "moderate":
                form |= {"moderated_grade": "2", "note": "Walked moderation note."}
            response = await fetch(world, who, path, method="POST", data=form, files=files)
            if expect(actor):
                ok = response.status_code in (200, 302, 303, 409, 422)
            else:
                ok = response.status_code == 403
            if not ok:
                wrong.append(f"{who:10} POST {path}: {response.status_code}, policy allows: {bool(expect(actor))}")
    assert not wrong, "\n".join(wrong)
