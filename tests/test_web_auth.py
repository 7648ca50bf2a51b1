"""Sign in and out: the session contract with Datasette, cookie flags, lock-out, CSRF."""

from __future__ import annotations

import pytest
from flask import session

from inspect_kit import accounts
from inspect_kit.web import SESSION_COOKIE_NAME

from .test_web_fixtures import CSRF_RE, PASSWORD, csrf_token, login_as, make_app, post

pytest_plugins = ["tests.test_web_fixtures"]


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
    token = CSRF_RE.search(page).group(1)
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


def test_repeated_failures_lock_the_account_with_a_clear_message(web):
    for _ in range(accounts.LOCK_AFTER_FAILURES - 1):
        assert sign_in(web, "ofsted2", "wrong-password!").status_code == 401
    response = sign_in(web, "ofsted2", "wrong-password!")
    assert response.status_code == 429
    assert "locked" in response.get_data(as_text=True)
    # Even the right password is refused while locked.
    response = sign_in(web, "ofsted2")
    assert response.status_code == 429
    assert "Try again then" in response.get_data(as_text=True)


def test_failed_logins_are_slowed(review_store, monkeypatch):
    delays = []
    monkeypatch.setattr("inspect_kit.web.auth.time.sleep", delays.append)
    client = make_app(review_store, LOGIN_FAILURE_DELAY=0.5).test_client()
    sign_in(client, "ofsted1", "wrong-password-1")
    sign_in(client, "ofsted1", "wrong-password-2")
    assert delays == [0.5, 1.0]


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
