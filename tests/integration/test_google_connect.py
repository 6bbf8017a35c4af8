"""Connecting a calendar to Google: the OAuth consent flow (state, PKCE, fixed redirect URI),
direct credentials (OAuth refresh token, service-account key, API key), listing Google calendars,
the troubleshooting errors, and secrets that never leave Secrets Manager.

The function runs in-process against moto; google-api-python-client and google-auth talk HTTP to
the fake Google on 127.0.0.1 (tests/google_fake.py)."""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.google_fake import READONLY, ConsentError
from tests.integration.ccj import assert_jira_error, full, token
from tests.integration.google_env import API_KEY, BASE, CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, GoogleEnv, env

pytestmark = pytest.mark.integration
__all__ = ["env"]


def secret_value(env: GoogleEnv) -> dict[str, Any]:
    from functions.google import app

    name = f"{app.google_settings.secret_prefix}{env.calendar_id}"
    return dict(json.loads(boto3.client("secretsmanager").get_secret_value(SecretId=name)["SecretString"]))


def consent_url(env: GoogleEnv, **query: str) -> dict[str, str]:
    status, out = env.call("GET", BASE + "/authorize", query=query or None)
    assert status == 200, out
    return dict(out)


# ---------------------------------------------------------------------------- OAuth consent
def test_consent_flow_stores_the_refresh_token_and_never_returns_it(
    env: GoogleEnv, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given ann's Google account with one calendar
    env.fake.add_calendar("ann@example.com", "Ann", "ann@example.com")
    # When she asks for the consent URL
    out = consent_url(env)
    query = {k: v[0] for k, v in parse_qs(urlsplit(out["url"]).query).items()}
    # Then it asks for offline, read-only access with state and PKCE, to the fixed redirect URI
    assert out["url"].startswith(env.fake.auth_uri + "?")
    assert query["client_id"] == CLIENT_ID
    assert query["redirect_uri"] == REDIRECT_URI == out["redirectUri"]
    assert query["scope"] == READONLY
    assert query["access_type"] == "offline"
    assert query["response_type"] == "code"
    assert query["code_challenge_method"] == "S256"
    assert len(query["code_challenge"]) == 43
    assert query["state"] == out["state"]
    assert out["state"].startswith(f"{env.calendar_id}.")
    # When Google redirects back after consent (no teamcal token on that request)
    redirect = env.fake.consent(out["url"], "ann@example.com")
    status, connected = env.call("GET", "/google/oauth/callback", tok={}, query=redirect)
    # Then the calendar is connected, the refresh token is in Secrets Manager and nowhere else
    assert status == 200, connected
    assert connected["status"] == "connected"
    assert connected["authType"] == "oauth"
    # and names the Google account that consented (whose calendars these are; issue 16)
    assert connected["googleAccount"] == "ann@example.com"
    stored = secret_value(env)
    refresh = stored["refreshToken"]
    assert refresh in env.fake.refresh_tokens
    assert refresh not in json.dumps(connected)
    assert stored["clientSecret"] == CLIENT_SECRET
    # And the stored grant works: the Google calendars can be listed
    status, page = env.call("GET", BASE + "/calendars")
    assert status == 200, page
    assert [c["id"] for c in page["values"]] == ["ann@example.com"]
    logs = capsys.readouterr()
    for secret in (refresh, CLIENT_SECRET, redirect["code"]):
        assert secret not in logs.out + logs.err


def test_consent_state_is_single_use_and_tamper_proof(env: GoogleEnv) -> None:
    out = consent_url(env)
    redirect = env.fake.consent(out["url"], "ann@example.com")
    forged = {**redirect, "state": redirect["state"] + "x"}
    status, body = env.call("GET", "/google/oauth/callback", tok={}, query=forged)
    assert status == 400
    assert_jira_error(body, "state")
    assert env.call("GET", "/google/oauth/callback", tok={}, query=redirect)[0] == 200
    status, body = env.call("GET", "/google/oauth/callback", tok={}, query=redirect)
    assert status == 400
    assert "already used" in body["errors"]["state"]
    assert env.call("GET", "/google/oauth/callback", tok={}, query={"code": "x", "state": "not-a-state"})[0] == 400


def test_consent_expires_after_ten_minutes(env: GoogleEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    from functions.google import app

    out = consent_url(env)
    redirect = env.fake.consent(out["url"], "ann@example.com")
    real_now = app.now_ms
    monkeypatch.setattr(app, "now_ms", lambda: real_now() + 11 * 60 * 1000)
    status, body = env.call("GET", "/google/oauth/callback", tok={}, query=redirect)
    assert status == 400
    assert "expired" in body["errors"]["state"]


def test_denied_consent_and_a_redirect_uri_google_refuses_are_clear_400s(env: GoogleEnv) -> None:
    out = consent_url(env)
    status, body = env.call(
        "GET", "/google/oauth/callback", tok={}, query={"state": out["state"], "error": "access_denied"}
    )
    assert status == 400
    assert "access_denied" in body["errors"]["error"]
    # Given a consent, after which the redirect URI is removed from the OAuth client
    out = consent_url(env)
    redirect = env.fake.consent(out["url"], "ann@example.com")
    env.fake.clients[CLIENT_ID] = (CLIENT_SECRET, set())
    status, body = env.call("GET", "/google/oauth/callback", tok={}, query=redirect)
    assert status == 400
    assert "redirect_uri_mismatch" in body["errorMessages"][0]
    assert REDIRECT_URI in body["errorMessages"][0]


def test_redirect_uri_comes_from_configuration_only(env: GoogleEnv) -> None:
    out = consent_url(env, redirect_uri="https://evil.example/steal")
    assert parse_qs(urlsplit(out["url"]).query)["redirect_uri"] == [REDIRECT_URI]
    with pytest.raises(ConsentError, match="redirect_uri_mismatch"):
        env.fake.consent(out["url"].replace("127.0.0.1%3A9", "evil.example"), "ann@example.com")


def test_authorize_needs_a_configured_deployment(env: GoogleEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    from functions.google import app

    boto3.client("secretsmanager").put_secret_value(
        SecretId=app.google_settings.oauth_client_secret_id,
        SecretString=json.dumps({"clientId": "", "clientSecret": ""}),
    )
    status, body = env.call("GET", BASE + "/authorize")
    assert status == 400
    assert "clientId" in body["errors"]
    monkeypatch.setattr(app, "google_settings", app.google_settings.model_copy(update={"oauth_redirect_uri": "none"}))
    status, body = env.call("GET", BASE + "/authorize")
    assert status == 400
    assert "GoogleOAuthRedirectUri" in body["errorMessages"][0]


# ---------------------------------------------------------------------------- direct credentials
def test_direct_oauth_credentials_are_checked_with_google(env: GoogleEnv) -> None:
    refresh = env.fake.grant("ann@example.com", CLIENT_ID)
    bad_client = {"clientId": CLIENT_ID, "clientSecret": "wrong", "refreshToken": refresh}
    status, body = env.call("PUT", BASE + "/credentials", bad_client)
    assert status == 400
    assert "invalid_client" in body["errorMessages"][0]
    assert "clientId" in body["errors"]
    env.fake.revoke(refresh)
    revoked = {"clientId": CLIENT_ID, "clientSecret": CLIENT_SECRET, "refreshToken": refresh}
    status, body = env.call("PUT", BASE + "/credentials", revoked)
    assert status == 400
    assert "invalid_grant" in body["errorMessages"][0]
    assert "refreshToken" in body["errors"]
    status, body = env.call("PUT", BASE + "/credentials", {"clientId": CLIENT_ID, "refreshToken": refresh})
    assert status == 400
    assert "clientSecret" in body["errors"]
    status, body = env.call("PUT", BASE + "/credentials", {})
    assert status == 400
    # nothing was stored by the refused attempts
    assert env.call("GET", BASE)[0] == 404


def test_service_account_key_connects(env: GoogleEnv) -> None:
    # Given a service account (RS256 key) that a team calendar is shared with
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    public = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    email = "sync@teamcal-project.iam.gserviceaccount.com"
    env.fake.add_service_account(email, public.decode(), "sa-account")
    team = env.fake.add_calendar("team@group.calendar.google.com", "Team", None)
    team.readers["sa-account"] = "reader"
    sa_key = {"type": "service_account", "client_email": email, "private_key": pem.decode(), "private_key_id": "k1"}
    # When it is given as credentials
    status, body = env.call("PUT", BASE + "/credentials", {"serviceAccountKey": sa_key})
    # Then the connection works and shows the service account, never its key
    assert status == 200, body
    assert body["authType"] == "serviceAccount"
    assert body["account"] == email
    assert "PRIVATE KEY" not in json.dumps(body)
    status, page = env.call("GET", BASE + "/calendars")
    assert status == 200, page
    assert [c["id"] for c in page["values"]] == ["team@group.calendar.google.com"]
    # A key Google does not know is refused
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = {
        **sa_key,
        "private_key": other.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode(),
    }
    status, body = env.call("PUT", BASE + "/credentials", {"serviceAccountKey": forged})
    assert status == 400
    status, body = env.call("PUT", BASE + "/credentials", {"serviceAccountKey": {**sa_key, "private_key": "garbage"}})
    assert status == 400
    assert "serviceAccountKey" in body["errors"]


def test_api_key_alone_reads_public_calendars_only(env: GoogleEnv) -> None:
    env.fake.add_calendar("holidays@group.v.calendar.google.com", "Holidays", "google", public=True)
    env.fake.add_calendar("secret@example.com", "Secret", "someone")
    status, body = env.call("PUT", BASE + "/credentials", {"apiKey": API_KEY})
    assert status == 200, body
    assert body["authType"] == "apiKey"
    status, body = env.call("GET", BASE + "/calendars")
    assert status == 400
    assert "apiKey" in body["errors"]
    status, body = env.select("secret@example.com")
    assert status == 400
    assert "not public" in body["errorMessages"][0]
    status, body = env.select("holidays@group.v.calendar.google.com")
    assert status == 200, body
    assert body["calendars"][0]["public"] is True
    status, body = env.call("PUT", BASE + "/credentials", {"apiKey": "AIza-not-a-key"})
    assert status == 200  # an API key is checked when it is used
    status, body = env.select("holidays@group.v.calendar.google.com")
    assert status == 400
    assert "API key" in body["errorMessages"][0]
    assert "apiKey" in body["errors"]


def test_calendars_are_marked_public_or_private(env: GoogleEnv) -> None:
    env.fake.add_calendar("ann@example.com", "Ann", "ann@example.com")
    env.fake.add_calendar("club@group.calendar.google.com", "Club", "ann@example.com", public=True)
    env.connect_oauth()
    status, page = env.call("GET", BASE + "/calendars")
    assert status == 200, page
    marked = {c["id"]: c["public"] for c in page["values"]}
    assert marked == {"ann@example.com": False, "club@group.calendar.google.com": True}
    # without any API key, nothing can be shown to be public: everything counts as private
    boto3.client("secretsmanager").put_secret_value(
        SecretId="teamcal-test-GoogleOAuthClientSecret",
        SecretString=json.dumps({"clientId": CLIENT_ID, "clientSecret": CLIENT_SECRET}),
    )
    env.connect_oauth(api_key=None)
    status, page = env.call("GET", BASE + "/calendars")
    assert {c["public"] for c in page["values"]} == {False}


def test_only_the_owner_manages_the_connection(env: GoogleEnv) -> None:
    env.fake.add_calendar("ann@example.com", "Ann", "ann@example.com")
    env.connect_oauth()
    bob = full("bob")
    assert env.call("GET", BASE, tok=bob)[0] == 404  # ann's calendar is private: bob cannot see it
    shared_view = token("ann", edit_calendars=False)
    status, body = env.call("PUT", BASE, {"calendars": ["ann@example.com"]}, tok=shared_view)
    assert status == 403
    admin = full("root", admin=True)
    assert env.call("GET", BASE, tok=admin)[0] == 200  # admins may look
    assert env.call("DELETE", BASE, tok=admin)[0] == 403  # but not manage
    assert env.call("GET", "/calendar/424242/google")[0] == 404
    assert env.call("GET", "/calendar/abc/google")[0] == 404


def test_secrets_stay_out_of_the_logs_even_at_debug_level(
    env: GoogleEnv, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given every logger at DEBUG, and a connection whose requests carry secrets
    caplog.set_level(logging.DEBUG)
    env.fake.add_calendar("holidays@group.v.calendar.google.com", "Holidays", "google", public=True)
    env.fake.put(
        "holidays@group.v.calendar.google.com",
        {"id": "h1", "start": {"date": "2026-05-01"}, "end": {"date": "2026-05-02"}},
    )
    refresh = env.connect_oauth()
    # When calendars are listed, selected and synced (API key in URLs, tokens in bodies and headers)
    assert env.call("GET", BASE + "/calendars")[0] == 200
    assert env.select("holidays@group.v.calendar.google.com")[0] == 200
    env.sync()
    # Then no secret is in any log line
    logs = caplog.text + capsys.readouterr().out
    for secret in (API_KEY, refresh, CLIENT_SECRET, *env.fake.access_tokens):
        assert secret not in logs
