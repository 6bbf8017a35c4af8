"""``FeedRecord``, the Jira records and the Google records: stored items read and written back
without loss (no migration); the repositories write records, never dicts; token hashes and
secrets stay out of a record's repr."""

from __future__ import annotations

from typing import Any

import pytest

from teamcal.models.feed_record import FeedRecord
from teamcal.models.google_state import GoogleAuthRecord, GoogleConnectionRecord, GoogleSyncStateRecord
from teamcal.models.jira_state import JiraConnectionRecord, JiraSyncStateRecord
from teamcal.storage.dynamo import deserialize, serialize
from teamcal.storage.feeds import FeedRepository
from teamcal.storage.google import GoogleRepository
from teamcal.storage.jira import JiraRepository

pytestmark = pytest.mark.unit

TOKEN_HASH = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

FEED: dict[str, Any] = {
    "calendarId": 1959,
    "tokenHash": TOKEN_HASH,
    "hint": "xY_z",
    "created": 1_764_547_200_000,
    "createdBy": "ann",
}


@pytest.mark.parametrize(
    "item",
    [FEED, {**FEED, "futureAttribute": {"kept": [1, "a"]}}, {k: v for k, v in FEED.items() if k != "createdBy"}],
    ids=["full", "unknown-attribute", "no-creator"],
)
def test_a_feed_item_round_trips(item: dict[str, Any]) -> None:
    record = FeedRecord.from_item(item)
    assert record.item() == item
    # Through DynamoDB's wire form too (numbers come back as Decimal)
    assert FeedRecord.from_item(deserialize(serialize(item))).item() == item
    assert record.calendar_id == 1959
    assert record.token_hash == TOKEN_HASH


def test_a_feed_built_here_stores_every_attribute() -> None:
    record = FeedRecord(calendar_id=7, token_hash=TOKEN_HASH, hint="abcd", created=5, created_by="bob")
    assert record.item() == {
        "calendarId": 7,
        "tokenHash": TOKEN_HASH,
        "hint": "abcd",
        "created": 5,
        "createdBy": "bob",
    }


def test_a_feed_record_does_not_show_its_token_hash() -> None:
    record = FeedRecord.from_item(FEED)
    assert TOKEN_HASH not in repr(record)
    assert TOKEN_HASH not in str(record)
    assert "xY_z" in repr(record)


def test_the_feed_repository_refuses_dicts() -> None:
    # No client is needed: the refusal comes before any call
    with pytest.raises(TypeError, match="FeedRecord"):
        FeedRepository(None, "calendars").replace(dict(FEED), None)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="FeedRecord"):
        FeedRepository(None, "calendars").replace(FeedRecord.from_item(FEED), dict(FEED))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="FeedRecord"):
        FeedRepository(None, "calendars").delete(dict(FEED))  # type: ignore[arg-type]


JIRA_CONNECTION: dict[str, Any] = {
    "baseUrl": "https://example.atlassian.net",
    "flavor": "cloud",
    "account": {"accountId": "5b10a2844c20165700ede21g", "displayName": "Ann", "emailAddress": "ann@example.com"},
    "timeZone": "Europe/Berlin",
    "status": "connected",
    "rateMinutes": 15,
    "scheduleName": "teamcal-jira-0",
    "scheduleState": "ENABLED",
    "lastSyncAt": 1_764_547_260_000,
    "lastRun": {"trigger": "schedule", "started": 1, "finished": 2, "outcome": "synced", "sources": []},
    "lastError": "throttled",
    "createdBy": "ann",
    "created": 1_764_547_200_000,
    "updated": 1_764_547_230_000,
    "leaseUntil": 1_764_547_320_000,
    "leaseId": "0f0e",
}
JIRA_STATE: dict[str, Any] = {
    "sourceId": 77,
    "calendarId": 1959,
    "kind": "jira",
    "fingerprint": "ab12",
    "mode": "full",
    "cursor": "50",
    "passStarted": 1_764_547_200_000,
    "since": 1_764_540_000_000,
    "seen": "10001,10002",
    "lastPassAt": 1_764_500_000_000,
    "lastFullAt": 1_764_400_000_000,
    "eventCount": 12,
    "lastRun": {"sourceId": 77, "pages": 2},
    "error": "boom",
}


@pytest.mark.parametrize(
    ("kind", "item"),
    [
        (JiraConnectionRecord, JIRA_CONNECTION),
        (JiraConnectionRecord, {"status": "needs_reauth", "futureAttribute": [1, 2]}),
        (JiraSyncStateRecord, JIRA_STATE),
        (JiraSyncStateRecord, {"sourceId": 5, "calendarId": 1, "kind": "jira", "error": "x", "future": {"a": 1}}),
    ],
    ids=["connection", "sparse-connection", "state", "sparse-state"],
)
def test_a_jira_item_round_trips(kind: type[JiraConnectionRecord | JiraSyncStateRecord], item: dict[str, Any]) -> None:
    assert kind.from_item(item).item() == item
    assert kind.from_item(deserialize(serialize(item))).item() == item


def test_jira_records_read_as_attributes_and_evolve() -> None:
    conn = JiraConnectionRecord.from_item(JIRA_CONNECTION)
    assert conn.base_url == "https://example.atlassian.net"
    assert conn.lease_until == 1_764_547_320_000
    state = JiraSyncStateRecord.from_item(JIRA_STATE)
    assert state.source_id == 77
    assert state.pass_started == 1_764_547_200_000
    done = state.evolved(pass_started=None, cursor=None)
    assert "passStarted" not in done.item()
    assert "cursor" not in done.item()
    assert state.item() == JIRA_STATE  # frozen: the original is unchanged


class _Recorder:
    """Records the UpdateItem calls of a repository (no network)."""

    def __init__(self) -> None:
        self.updates: list[dict[str, Any]] = []

    def update_item(self, **args: Any) -> dict[str, Any]:
        self.updates.append(args)
        return {}


def _written(args: dict[str, Any]) -> tuple[set[str], set[str]]:
    names = args["ExpressionAttributeNames"]
    expression = args["UpdateExpression"]
    sets = expression.split(" REMOVE ")[0].removeprefix("SET ")
    removes = expression.split(" REMOVE ")[1] if " REMOVE " in expression else ""
    set_names = {names[p.split(" = ")[0].strip()] for p in sets.split(",") if " = " in p}
    removed = {names[p.strip()] for p in removes.split(",") if p.strip()}
    return set_names, removed


def test_the_jira_repository_writes_only_what_a_record_changes() -> None:
    client = _Recorder()
    repo = JiraRepository(client, "calendars")
    conn = JiraConnectionRecord.from_item(JIRA_CONNECTION)
    repo.update_connection(conn.evolved(status="needs_reauth", last_error=None), conn)
    sets, removes = _written(client.updates[-1])
    assert sets == {"status"}
    assert removes == {"lastError"}
    assert client.updates[-1]["ConditionExpression"] == "attribute_exists(pk)"
    # The lease attributes are written by the lease methods only
    repo.save_connection(conn.evolved(lease_id="other", updated=5), conn)
    assert _written(client.updates[-1]) == ({"updated"}, set())
    state = JiraSyncStateRecord.from_item(JIRA_STATE)
    repo.save_state(state.evolved(cursor="100", seen=None), state)
    assert _written(client.updates[-1]) == ({"cursor", "sourceId"}, {"seen"})
    # Without a previous state, every attribute of the record is written and nothing removed
    repo.save_state(JiraSyncStateRecord(5, calendar_id=1, kind="jira", error="x"), None)
    assert _written(client.updates[-1]) == ({"sourceId", "calendarId", "kind", "error"}, set())


def test_the_jira_repository_refuses_dicts() -> None:
    repo = JiraRepository(_Recorder(), "calendars")
    conn = JiraConnectionRecord.from_item(JIRA_CONNECTION)
    with pytest.raises(TypeError, match="JiraConnectionRecord"):
        repo.save_connection(dict(JIRA_CONNECTION), None)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="JiraConnectionRecord"):
        repo.update_connection(conn, dict(JIRA_CONNECTION))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="JiraSyncStateRecord"):
        repo.save_state(dict(JIRA_STATE), None)  # type: ignore[arg-type]


GOOGLE_CONNECTION: dict[str, Any] = {
    "calendarId": 1959,
    "authType": "oauth",
    "account": "1234-abc.apps.googleusercontent.com",
    "googleAccount": "ann@example.com",
    "status": "connected",
    "rateMinutes": 30,
    "scheduleName": "teamcal-google-1959",
    "scheduleState": "ENABLED",
    "lastSyncAt": 1_764_547_260_000,
    "lastRun": {"trigger": "api", "started": 1, "finished": 2, "calendars": []},
    "lastError": "throttled",
    "createdBy": "ann",
    "created": 1_764_547_200_000,
    "updated": 1_764_547_230_000,
    "leaseUntil": 1_764_547_320_000,
    "leaseId": "0f0e",
}
GOOGLE_STATE: dict[str, Any] = {
    "googleCalendarId": "team@group.calendar.google.com",
    "summary": "Team",
    "timeZone": "Europe/Berlin",
    "public": False,
    "sourceId": 88,
    "syncToken": "CPDAlvWDx70CEPDAlvWDx70CGAU=",
    "pageToken": "EjYKKzFh",
    "pendingParents": ["abc", "def"],
    "pendingExdates": {"abc": ["20260312T090000Z"]},
    "eventCount": 5,
    "lastSyncAt": 1_764_547_260_000,
    "lastRun": {"id": "team", "pages": 1},
    "fullSyncs": 1,
    "error": "boom",
    "created": 1_764_547_200_000,
}
VERIFIER = "pkce-verifier-" + "v" * 40
GOOGLE_AUTH: dict[str, Any] = {
    "stateHash": TOKEN_HASH,
    "codeVerifier": VERIFIER,
    "user": "ann",
    "expiresAt": 1_764_547_800_000,
}


@pytest.mark.parametrize(
    ("kind", "item"),
    [
        (GoogleConnectionRecord, GOOGLE_CONNECTION),
        (GoogleConnectionRecord, {"calendarId": 3, "status": "needs_reauth", "futureAttribute": [1]}),
        (GoogleSyncStateRecord, GOOGLE_STATE),
        (GoogleSyncStateRecord, {"googleCalendarId": "x", "sourceId": 1, "future": {"a": 1}}),
        (GoogleAuthRecord, GOOGLE_AUTH),
        (GoogleAuthRecord, {**GOOGLE_AUTH, "future": "kept"}),
    ],
    ids=["connection", "sparse-connection", "state", "sparse-state", "auth", "auth-unknown-attribute"],
)
def test_a_google_item_round_trips(
    kind: type[GoogleConnectionRecord | GoogleSyncStateRecord | GoogleAuthRecord], item: dict[str, Any]
) -> None:
    assert kind.from_item(item).item() == item
    assert kind.from_item(deserialize(serialize(item))).item() == item


def test_a_pending_consent_does_not_show_its_verifier_or_state_hash() -> None:
    auth = GoogleAuthRecord.from_item(GOOGLE_AUTH)
    assert auth.code_verifier == VERIFIER
    assert VERIFIER not in repr(auth)
    assert TOKEN_HASH not in repr(auth)
    assert "ann" in repr(auth)


def test_the_google_repository_writes_only_what_a_record_changes() -> None:
    client = _Recorder()
    repo = GoogleRepository(client, "calendars")
    conn = GoogleConnectionRecord.from_item(GOOGLE_CONNECTION)
    repo.update_connection(1959, conn.evolved(status="needs_reauth", google_account=None, lease_id="x"), conn)
    assert _written(client.updates[-1]) == ({"status"}, {"googleAccount"})
    state = GoogleSyncStateRecord.from_item(GOOGLE_STATE)
    repo.update_state(1959, state.evolved(page_token="next", pending_parents=None), state)
    assert _written(client.updates[-1]) == ({"pageToken"}, {"pendingParents"})
    repo.save_state(1959, GoogleSyncStateRecord("new", source_id=2, event_count=0), None)
    assert _written(client.updates[-1]) == ({"googleCalendarId", "sourceId", "eventCount"}, set())


def test_the_google_repository_refuses_dicts() -> None:
    repo = GoogleRepository(_Recorder(), "calendars")
    conn = GoogleConnectionRecord.from_item(GOOGLE_CONNECTION)
    with pytest.raises(TypeError, match="GoogleConnectionRecord"):
        repo.save_connection(1959, dict(GOOGLE_CONNECTION), None)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="GoogleConnectionRecord"):
        repo.update_connection(1959, conn, dict(GOOGLE_CONNECTION))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="GoogleSyncStateRecord"):
        repo.save_state(1959, dict(GOOGLE_STATE), None)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="GoogleAuthRecord"):
        repo.put_auth(1959, dict(GOOGLE_AUTH))  # type: ignore[arg-type]
