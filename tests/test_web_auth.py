"""Sign in and out: the session contract with Datasette, cookie flags, throttling, CSRF."""

from __future__ import annotations

import re

import pytest
from flask import session

from inspect_kit import accounts, login_throttle
from inspect_kit.web import SESSION_COOKIE_NAME
from inspect_kit.web.auth import PASSWORD_CHECK_SLOTS

from .pages import hidden
from .web_fixtures import PASSWORD, csrf_token, login_as, make_app, post

PAIR_LIMIT = login_throttle.LIMITS[0].failures


def sign_in(client, username, password=PASSWORD, next_path=None):
    token = csrf_token(client, "/login")
    url = "/login" + (f"?next={next_path}" if next_path else "")
    return client.post(url, data={"username": username, "password": password, "csrf_token": token})


def test_login_sets_the_session_contract_read_by_datasette(web):
    with web:
        response = sign_in(web, "police1")
        assert response.status_code == 302
        assert response.headers["Location"] == "/"
        assert session["actor"] == {"id": "police1", "role": "inspector", "strand": "police", "inspector": "POL-02"}
        assert session.permanent is True


def test_admin_session_has_no_strand_or_inspector(web):
    with web:
        sign_in(web, "admin")
        assert session["actor"] == {"id": "admin", "role": "admin", "strand": None, "inspector": None}


def test_session_cookie_name_and_flags(web):
    response = sign_in(web, "ofsted1")
    cookie = response.headers["Set-Cookie"]
    assert SESSION_COOKIE_NAME == "inspect_kit_session"
    assert cookie.startswith("inspect_kit_session=")
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie
    assert "Expires=" in cookie  # permanent: lasts the configured working day


@pytest.mark.parametrize("config", [{"PREFERRED_URL_SCHEME": "https"}, {"SECURE_COOKIES": True}])
def test_session_cookie_is_secure_under_https(review_store, config):
    client = make_app(review_store, **config).test_client()
    https = "https://localhost/"
    page = client.get("/login", base_url=https).get_data(as_text=True)
    token = hidden(page, "csrf_token")
    # Under https Flask-WTF also checks the Referer is this site (WTF_CSRF_SSL_STRICT).
    response = client.post("/login", base_url=https, headers={"Referer": https + "login"},
                           data={"username": "ofsted1", "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    assert "Secure" in response.headers["Set-Cookie"]


def test_wrong_password_is_refused_with_a_message(web):
    with web:
        response = sign_in(web, "ofsted1", "not-the-password")
        assert "actor" not in session  # not signed in
    assert response.status_code == 401
    page = response.get_data(as_text=True)
    assert "The username or password is not right" in page
    assert 'href="#username"' in page  # the error summary links to the field …
    assert "<title>Error: Sign in" in page
    assert 'id="username-error"' in page and 'aria-describedby="username-error"' in page  # … that carries the error
    assert web.get("/").status_code == 302  # still sent to sign in


def test_unknown_user_gets_the_same_message(web):
    response = sign_in(web, "nobody", "whatever-password")
    assert response.status_code == 401
    assert "The username or password is not right" in response.get_data(as_text=True)


def test_repeated_failures_are_refused_with_429_and_retry_after_before_any_hash(web, monkeypatch):
    hashes = []
    real = accounts.check_password_hash
    monkeypatch.setattr(accounts, "check_password_hash", lambda *args: hashes.append(1) or real(*args))
    for _ in range(PAIR_LIMIT):
        assert sign_in(web, "ofsted2", "wrong-password!").status_code == 401
    assert len(hashes) == PAIR_LIMIT
    # Even the right password is refused, typed in capitals: the login folds the username.
    response = sign_in(web, "OFSTED2")
    assert response.status_code == 429
    assert len(hashes) == PAIR_LIMIT  # refused before any hash
    assert 14 * 60 < int(response.headers["Retry-After"]) <= 15 * 60
    page = response.get_data(as_text=True)
    assert "Too many failed attempts to sign in with this username from here. Try again after" in page
    assert "unlock" not in page  # names no command that does not exist


@pytest.mark.parametrize("username", ["ofsted2", "nobody-at-all"])
def test_the_refusal_page_keeps_the_typed_username_and_is_accessible(web, username):
    for _ in range(PAIR_LIMIT):
        sign_in(web, username, "wrong-password!")
    response = sign_in(web, username)
    assert response.status_code == 429
    page = response.get_data(as_text=True)
    assert "<title>Error: Sign in" in page
    assert 'class="govuk-error-summary"' in page and 'href="#username"' in page
    assert re.search(rf'<input[^>]*id="username"[^>]*value="{username}"', page)
    assert 'id="username-error"' in page and 'aria-describedby="username-error"' in page
    assert 'for="password"' in page and 'value="correct' not in page  # the password is never sent back


def test_json_clients_get_the_api_error_shape(web):
    for _ in range(PAIR_LIMIT):
        sign_in(web, "nobody", "wrong-password!")
    token = csrf_token(web, "/login")
    response = web.post("/login", data={"username": "nobody", "password": "x" * 12, "csrf_token": token},
                        headers={"Accept": "application/json"})
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    body = response.get_json()
    assert set(body) == {"status", "message", "errors"} and body["status"] == 429
    assert body["errors"]["username"] == body["message"]


def test_the_owner_signs_in_from_another_address_during_a_burst_against_their_name(review_store):
    attacker = make_app(review_store).test_client()
    for _ in range(PAIR_LIMIT + 3):
        sign_in(attacker, "police1", "wrong-password!")
    assert sign_in(attacker, "police1").status_code == 429
    owner = make_app(review_store).test_client()
    owner.environ_base["REMOTE_ADDR"] = "198.51.100.20"
    with owner:
        response = sign_in(owner, "police1")
        assert response.status_code == 302
        assert session["actor"]["id"] == "police1"


def test_the_throttle_is_shared_by_a_second_app_on_the_same_store(review_store):
    first = make_app(review_store).test_client()
    for _ in range(PAIR_LIMIT):
        sign_in(first, "lead", "wrong-password!")
    second_worker = make_app(review_store).test_client()  # as another worker process would see it
    assert sign_in(second_worker, "lead").status_code == 429


def test_a_busy_server_answers_503_with_retry_after_instead_of_queueing(review_store):
    app = make_app(review_store, PASSWORD_CHECK_WAIT=0.01)
    slots = app.extensions[PASSWORD_CHECK_SLOTS]
    assert slots.concurrency == accounts.PASSWORD_CHECK_CONCURRENCY == 2
    client = app.test_client()
    with slots.slot(), slots.slot():
        response = sign_in(client, "ofsted1")
    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) >= 1
    assert "Try again in a few seconds" in response.get_data(as_text=True)
    assert sign_in(client, "ofsted1").status_code == 302  # the slots came back


def test_empty_login_form_names_both_fields(web):
    response = web.post("/login", data={"csrf_token": csrf_token(web)})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Enter your username" in page and "Enter your password" in page


def test_login_without_csrf_token_is_refused(web):
    response = web.post("/login", data={"username": "ofsted1", "password": PASSWORD})
    assert response.status_code == 400
    assert "security token" in response.get_data(as_text=True)


def test_next_goes_back_to_the_page_asked_for(web):
    assert web.get("/findings").headers["Location"] == "/login?next=/findings"
    response = sign_in(web, "ofsted1", next_path="/findings")
    assert response.headers["Location"] == "/findings"


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "javascript:alert(1)",
                                    "/\\evil.example", "/\\/evil.example", "/\t/evil.example"])
def test_next_never_leaves_the_site(web, target):
    response = web.post("/login", query_string={"next": target},
                        data={"username": "ofsted1", "password": PASSWORD, "csrf_token": csrf_token(web)})
    assert response.headers["Location"] == "/"


def test_logout_is_a_post_with_csrf(web):
    login_as(web, "ofsted1")
    assert web.get("/logout").status_code == 405
    assert web.post("/logout").status_code == 400  # no CSRF token
    with web:
        response = post(web, "/logout", {}, token_from="/")
        assert response.status_code == 302
        assert "actor" not in session
    assert web.get("/").status_code == 302


def test_disabled_account_is_signed_out_at_once(web, review_store):
    login_as(web, "police1")
    assert web.get("/").status_code == 200
    private = review_store.private()
    accounts.disable_account(private, "police1")
    private.close()
    response = web.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_a_forged_role_in_the_session_is_not_trusted(web):
    with web.session_transaction() as forged:
        forged["actor"] = {"id": "police1", "role": "lead", "strand": "police", "inspector": "POL-02"}
    assert web.get("/qa").status_code == 302


def test_login_page_has_no_external_resources(web):
    page = web.get("/login").get_data(as_text=True)
    assert "http://" not in page and "https://" not in page
    assert "/static/govuk-frontend/govuk-frontend.min.css" in page
