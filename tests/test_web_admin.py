"""The administrator's pages: account abilities through the web,
each audited; set-up forms keep what was typed and name the field; the
review's status on the web; the owner's side of a password reset."""

from __future__ import annotations

import contextlib
import io
import json
import re

import pytest

from inspect_kit import accounts, login_throttle, reviews

from .web_fixtures import PASSWORD, csrf_token, login_as, post

NEW_PASSWORD = "a brand new fictional passphrase"


@pytest.fixture
def admin(web):
    return login_as(web, "admin")


def audit(store, action):
    with contextlib.closing(store.evidence()) as db:
        return list(db.query("SELECT actor, before, after FROM audit_log WHERE action = ? ORDER BY id", [action]))


def state_of(store, username):
    from inspect_kit.account_admin import list_accounts

    with contextlib.closing(store.private()) as private_db:
        return next(row for row in list_accounts(private_db) if row["username"] == username)


def try_sign_in(store, username, password):
    with contextlib.closing(store.private()) as private_db:
        return accounts.authenticate(private_db, username, password, address="198.51.100.7")


def test_only_administrators_open_set_up(web, review_store):
    for username in ("police1", "lead", "moderator"):
        login_as(web, username)
        assert web.get("/admin/accounts").status_code == 403
        assert web.post("/admin/accounts/police1/disable",
                        data={"csrf_token": csrf_token(web, "/findings/new" if username != "moderator" else "/qa")}
                        ).status_code == 403
    assert state_of(review_store, "police1")["state"] == "active"


def test_disable_then_enable_on_the_web(admin, review_store):
    assert post(admin, "/admin/accounts/police1/disable", {}).status_code == 302
    assert "Disabled" in admin.get("/admin/accounts").get_data(as_text=True)
    with pytest.raises(accounts.LoginFailed, match="disabled"):
        try_sign_in(review_store, "police1", PASSWORD)
    assert post(admin, "/admin/accounts/police1/enable", {}).status_code == 302
    assert try_sign_in(review_store, "police1", PASSWORD)["username"] == "police1"
    assert [row["actor"] for row in audit(review_store, "account.disable")] == ["admin"]
    assert [row["actor"] for row in audit(review_store, "account.enable")] == ["admin"]


def test_locked_then_unlocked_on_the_web(admin, review_store):
    for _ in range(login_throttle.LIMITS[0].failures):
        with pytest.raises(accounts.LoginFailed):
            try_sign_in(review_store, "police1", "not the password")
    page = admin.get("/admin/accounts/police1").get_data(as_text=True)
    assert re.search(r"State\s*</dt>\s*<dd[^>]*>\s*Locked", page)
    with pytest.raises(login_throttle.TooManyAttempts):
        try_sign_in(review_store, "police1", PASSWORD)
    assert post(admin, "/admin/accounts/police1/unlock", {}).status_code == 302
    assert try_sign_in(review_store, "police1", PASSWORD)
    assert json.loads(audit(review_store, "account.unlock")[0]["after"])["failures_forgotten"] == 5


def test_reset_password_on_the_web_both_sides(admin, review_store, web_app):
    page = post(admin, "/admin/accounts/police1/reset", {}).get_data(as_text=True)
    code = re.search(r'id="reset-code">([^<]+)<', page).group(1)
    owner = web_app.test_client()
    form = {"username": "police1", "code": code, "password": NEW_PASSWORD, "confirm": "different passphrase!"}
    mismatch = post(owner, "/reset-password", form)
    assert mismatch.status_code == 422 and "not the same" in mismatch.get_data(as_text=True)
    assert 'value="police1"' in mismatch.get_data(as_text=True)
    wrong = post(owner, "/reset-password", {**form, "code": code[:-1], "confirm": NEW_PASSWORD})
    assert wrong.status_code == 400 and "not right" in wrong.get_data(as_text=True)
    done = post(owner, "/reset-password", {**form, "confirm": NEW_PASSWORD})
    assert done.status_code == 302 and done.headers["Location"].endswith("/login")
    again = post(owner, "/reset-password", {**form, "confirm": NEW_PASSWORD})
    assert again.status_code == 400
    assert try_sign_in(review_store, "police1", NEW_PASSWORD)
    with pytest.raises(accounts.LoginFailed):
        try_sign_in(review_store, "police1", PASSWORD)
    assert [row["actor"] for row in audit(review_store, "account.reset_issued")] == ["admin"]
    assert [row["actor"] for row in audit(review_store, "account.password_reset")] == ["police1"]
    with contextlib.closing(review_store.evidence()) as db:
        assert code not in "\n".join(db.conn.iterdump())


def test_role_change_on_the_web(admin, review_store):
    bad = post(admin, "/admin/accounts/police1/role", {"role": "inspector", "strand": ""})
    assert bad.status_code == 422 and "needs a strand" in bad.get_data(as_text=True)
    assert post(admin, "/admin/accounts/police1/role", {"role": "lead", "strand": "police"}).status_code == 302
    assert state_of(review_store, "police1")["role"] == "lead"
    row = audit(review_store, "account.role")[0]
    assert (row["actor"], json.loads(row["after"])["role"]) == ("admin", "lead")


def test_a_new_account_gets_a_code_never_a_typed_password(admin, review_store, web_app):
    assert post(admin, "/admin/strands", {"strands": ["ofsted", "health", "police"]}).status_code == 302
    response = post(admin, "/admin/accounts", {"username": "prb01", "role": "inspector", "strand": "probation",
                                               "inspector_code": "PRB-01"})
    assert response.status_code == 422  # probation does not take part in Testbridge yet
    assert 'value="prb01"' in response.get_data(as_text=True)
    with contextlib.closing(review_store.evidence()) as db:
        review_id = reviews.current_review(db)["id"]
    assert post(admin, "/admin/strands", {"strands": ["ofsted", "health", "police", "probation"]}).status_code == 302
    page = post(admin, "/admin/accounts", {"username": "prb01", "role": "inspector", "strand": "probation",
                                           "inspector_code": "PRB-01"}).get_data(as_text=True)
    code = re.search(r'id="reset-code">([^<]+)<', page).group(1)
    with contextlib.closing(review_store.evidence()) as db:
        assert reviews.inspector_by_code(db, review_id, "PRB-01")["strand"] == "probation"
    post(web_app.test_client(), "/reset-password", {"username": "prb01", "code": code, "password": NEW_PASSWORD,
                                                    "confirm": NEW_PASSWORD})
    assert try_sign_in(review_store, "prb01", NEW_PASSWORD)["inspector_code"] == "PRB-01"


def test_agencies_and_case_sample_on_the_web(admin, review_store):
    assert post(admin, "/admin/strands", {"strands": ["ofsted", "health", "police"]}).status_code == 302
    bad = post(admin, "/admin/agencies", {"name": "Testbridge Probation", "agency_type": "probation",
                                          "lead_strand": "probation"})
    assert bad.status_code == 422 and 'value="Testbridge Probation"' in bad.get_data(as_text=True)
    assert post(admin, "/admin/agencies", {"name": "Testbridge School", "agency_type": "school",
                                           "lead_strand": "ofsted"}).status_code == 302
    csv = b"case_ref,age_band,legal_status,selection_route\nC-050,1_4,none,sampled\nJohn,1_4,none,sampled\n"
    response = admin.post("/admin/cases/import", data={"csrf_token": csrf_token(admin, "/admin/cases"),
                                                       "sheet": (io.BytesIO(csv), "sample.csv")})
    assert response.status_code == 422
    assert re.search(r"<td[^>]*>3</td><td[^>]*>case_ref</td>", response.get_data(as_text=True))
    csv = b"case_ref,age_band,legal_status,selection_route\nC-050,1_4,none,sampled\n"
    response = admin.post("/admin/cases/import", data={"csrf_token": csrf_token(admin, "/admin/cases"),
                                                       "sheet": (io.BytesIO(csv), "sample.csv")})
    assert response.status_code == 302
    assert "C-050" in admin.get("/admin/cases").get_data(as_text=True)


def test_the_lead_moves_the_status_and_reopens_with_a_reason(web, review_store):
    login_as(web, "lead")
    assert post(web, "/admin/status", {"status": "drafting"}, token_from="/admin/status").status_code == 302
    refused = post(web, "/admin/status", {"status": "fieldwork"}, token_from="/admin/status")
    assert refused.status_code == 422 and "reason" in refused.get_data(as_text=True)
    assert "Drafting" in web.get("/").get_data(as_text=True)  # the status line on every page
    assert post(web, "/admin/status", {"status": "fieldwork", "reason": "A late file."},
                token_from="/admin/status").status_code == 302
    assert audit(review_store, "review.reopen")[0]["actor"] == "lead"
