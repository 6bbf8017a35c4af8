"""Google Calendar event JSON → teamcal records (teamcal.google.mapping), and the secrets' shapes:
pure, no network."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from teamcal.errors import InvalidInputError
from teamcal.google.errors import GoogleCredentialsError, GoogleGrantRevoked, oauth_error
from teamcal.google.mapping import (
    Delete,
    InstanceCancel,
    InstanceUpsert,
    Skip,
    Upsert,
    classify,
    namespace,
    recurrence_ref,
    with_exdates,
)
from teamcal.google.secrets import GoogleSecret, OAuthClient
from teamcal.models.event_record import UNBOUNDED_MS
from teamcal.recurrence import Series, expand

pytestmark = pytest.mark.unit

HOUR = 3_600_000


def ms(iso: str) -> int:
    return int(dt.datetime.fromisoformat(iso).timestamp() * 1000)


def test_all_day_end_date_is_exclusive_in_google_and_inclusive_here() -> None:
    # Given a two-day all-day event (Google: end = the day after the last day)
    item = {"id": "a", "summary": "Offsite", "start": {"date": "2026-03-05"}, "end": {"date": "2026-03-07"}}
    # When it is classified
    change = classify(item, "Europe/Berlin")
    # Then it is a single all-day event whose last day is 03-06
    assert isinstance(change, Upsert)
    assert change.fields["kind"] == "single"
    assert change.fields["allDay"] is True
    assert (change.fields["allDayStart"], change.fields["allDayEnd"]) == ("2026-03-05", "2026-03-06")
    assert change.fields["endDate"] - change.fields["startDate"] == 2 * 24 * HOUR
    assert change.fields["summary"] == "Offsite"


def test_one_day_all_day_event_starts_and_ends_on_the_same_day() -> None:
    change = classify({"id": "b", "start": {"date": "2026-12-31"}, "end": {"date": "2027-01-01"}}, "UTC")
    assert isinstance(change, Upsert)
    assert change.fields["allDayStart"] == change.fields["allDayEnd"] == "2026-12-31"


def test_timed_event_keeps_its_instant_and_its_zone() -> None:
    item = {
        "id": "t",
        "start": {"dateTime": "2026-03-29T01:30:00+01:00", "timeZone": "Europe/Berlin"},
        "end": {"dateTime": "2026-03-29T03:30:00+02:00", "timeZone": "Europe/Berlin"},
    }
    change = classify(item, "UTC")
    assert isinstance(change, Upsert)
    # Across the spring-forward gap: one real hour
    assert change.fields["startDate"] == ms("2026-03-29T00:30:00+00:00")
    assert change.fields["endDate"] - change.fields["startDate"] == HOUR
    assert change.fields["timeZone"] == "Europe/Berlin"


def test_event_without_zone_takes_the_calendars_and_an_unknown_zone_falls_back() -> None:
    naive = {"id": "n", "start": {"dateTime": "2026-06-01T09:00:00"}, "end": {"dateTime": "2026-06-01T10:00:00"}}
    change = classify(naive, "America/New_York")
    assert isinstance(change, Upsert)
    assert change.fields["timeZone"] == "America/New_York"
    assert change.fields["startDate"] == ms("2026-06-01T13:00:00+00:00")
    odd = {"id": "o", "start": {"dateTime": "2026-06-01T09:00:00Z", "timeZone": "Mars/Olympus"}}
    change = classify(odd, "Europe/Paris")
    assert isinstance(change, Upsert)
    assert change.fields["timeZone"] == "Europe/Paris"


def test_recurring_master_maps_rrule_exdate_and_rdate_lines() -> None:
    # Given a weekly series in Berlin with EXDATEs in its own zone, in another zone, and an RDATE
    item = {
        "id": "w",
        "start": {"dateTime": "2026-03-02T09:00:00+01:00", "timeZone": "Europe/Berlin"},
        "end": {"dateTime": "2026-03-02T09:30:00+01:00", "timeZone": "Europe/Berlin"},
        "recurrence": [
            "RRULE:FREQ=WEEKLY;COUNT=6",
            "EXDATE;TZID=Europe/Berlin:20260309T090000",
            "EXDATE;TZID=America/New_York:20260316T040000",
            "RDATE;TZID=Europe/Berlin:20260320T140000",
        ],
    }
    change = classify(item, "UTC")
    assert isinstance(change, Upsert)
    fields = change.fields
    assert fields["kind"] == "master"
    assert fields["recurrence"] == "FREQ=WEEKLY;COUNT=6"
    # the New York value is an instant: 04:00 EDT = 08:00Z = 09:00 Berlin (CET)
    assert fields["exdate"] == ["20260309T090000", "20260316T080000Z"]
    assert fields["rdate"] == ["20260320T140000"]
    assert change.google_exdate == ("20260309T090000", "20260316T080000Z")
    # When the series is expanded, the two EXDATEs are gone and the RDATE is there
    series = Series.from_wire(fields, "UTC")
    starts = [
        o.start_ms for o in expand(series, ms("2026-03-01T00:00:00+00:00"), ms("2026-05-01T00:00:00+00:00")).occurrences
    ]
    assert ms("2026-03-09T08:00:00+00:00") not in starts
    assert ms("2026-03-16T08:00:00+00:00") not in starts
    assert ms("2026-03-20T13:00:00+00:00") in starts
    assert len(starts) == 5  # 6 by COUNT - 2 EXDATEs + 1 RDATE


def test_all_day_series_keeps_dates_and_unsupported_lines_become_notes() -> None:
    item = {
        "id": "y",
        "start": {"date": "2026-01-10"},
        "end": {"date": "2026-01-11"},
        "recurrence": ["RRULE:FREQ=YEARLY", "EXDATE;VALUE=DATE:20270110", "EXRULE:FREQ=DAILY", "RDATE;VALUE=PERIOD:x"],
    }
    change = classify(item, "UTC")
    assert isinstance(change, Upsert)
    assert change.fields["exdate"] == ["20270110"]
    assert change.fields["seriesEnd"] == UNBOUNDED_MS  # unbounded: as every writer stores it
    assert any("EXRULE" in n for n in change.notes)
    assert any("PERIOD" in n for n in change.notes)


def test_instances_become_children_or_exdates_named_by_their_original_start() -> None:
    moved = {
        "id": "w_20260309T080000Z",
        "recurringEventId": "w",
        "originalStartTime": {"dateTime": "2026-03-09T09:00:00+01:00", "timeZone": "Europe/Berlin"},
        "start": {"dateTime": "2026-03-09T15:00:00+01:00"},
        "end": {"dateTime": "2026-03-09T16:00:00+01:00"},
        "summary": "moved",
    }
    change = classify(moved, "Europe/Berlin")
    assert isinstance(change, InstanceUpsert)
    assert (change.master_id, change.recurrence_id) == ("w", "20260309T080000Z")
    assert change.fields["kind"] == "child"
    assert change.fields["startDate"] == ms("2026-03-09T14:00:00+00:00")
    cancelled = {**moved, "status": "cancelled"}
    assert classify(cancelled, "UTC") == InstanceCancel("w_20260309T080000Z", "w", "20260309T080000Z")
    day = {
        "id": "y_20270110",
        "recurringEventId": "y",
        "originalStartTime": {"date": "2027-01-10"},
        "status": "cancelled",
    }
    assert classify(day, "UTC") == InstanceCancel("y_20270110", "y", "20270110")


def test_deleted_events_and_unusable_items() -> None:
    assert classify({"id": "gone", "status": "cancelled"}, "UTC") == Delete("gone")
    assert isinstance(classify({"summary": "no id"}, "UTC"), Skip)
    bad_rule = classify({"id": "r", "start": {"date": "2026-01-01"}, "recurrence": ["RRULE:FREQ=NEVER"]}, "UTC")
    assert isinstance(bad_rule, Skip)
    assert "recurrence" in bad_rule.reason
    assert isinstance(classify({"id": "s", "start": {}}, "UTC"), Skip)
    assert isinstance(classify({"id": "u", "start": {"dateTime": "not a time"}}, "UTC"), Skip)


def test_with_exdates_recomputes_a_masters_exdates() -> None:
    change = classify(
        {"id": "d", "start": {"dateTime": "2026-03-02T09:00:00Z"}, "recurrence": ["RRULE:FREQ=DAILY;COUNT=3"]}, "UTC"
    )
    assert isinstance(change, Upsert)
    updated = with_exdates(change.fields, ["20260303T090000Z"])
    assert updated.exdate == ["20260303T090000Z"]
    series = updated.series()
    occurrences = expand(series, ms("2026-03-01T00:00:00+00:00"), ms("2026-03-10T00:00:00+00:00")).occurrences
    assert len(occurrences) == 2


def test_recurrence_ref_forms() -> None:
    assert recurrence_ref({"date": "2026-02-28"}, "UTC") == "20260228"
    assert recurrence_ref({"dateTime": "2026-02-28T23:30:00-05:00"}, "UTC") == "20260301T043000Z"
    assert recurrence_ref({"dateTime": "2026-02-28T23:30:00", "timeZone": "Asia/Tokyo"}, "UTC") == "20260228T143000Z"
    assert namespace("ann@example.com") == "google:ann@example.com"


def test_secrets_never_show_in_repr_and_round_trip() -> None:
    secret = GoogleSecret(
        "oauth", client_id="cid", client_secret="TOPSECRET", refresh_token="1//REFRESH", api_key="AIzaKEY"
    )
    shown = repr(secret)
    assert "TOPSECRET" not in shown
    assert "REFRESH" not in shown
    assert "AIzaKEY" not in shown
    assert GoogleSecret.from_json(secret.to_json()) == secret
    assert secret.account_hint == "cid"
    assert "TOPSECRET" not in repr(OAuthClient("cid", "TOPSECRET"))


def test_incomplete_secrets_are_refused() -> None:
    with pytest.raises(InvalidInputError):
        GoogleSecret("oauth", client_id="cid", client_secret="s")
    with pytest.raises(InvalidInputError) as refused:
        GoogleSecret("serviceAccount", service_account_key={"type": "authorized_user"})
    assert "serviceAccountKey" in refused.value.errors
    with pytest.raises(InvalidInputError):
        GoogleSecret.from_json(json.dumps({"kind": "password"}))


def test_token_endpoint_errors_are_typed() -> None:
    assert isinstance(oauth_error("invalid_grant"), GoogleGrantRevoked)
    client = oauth_error("invalid_client")
    assert isinstance(client, GoogleCredentialsError)
    assert client.kind == "client"
    redirect = oauth_error("redirect_uri_mismatch", "https://x.example/cb")
    assert isinstance(redirect, GoogleCredentialsError)
    assert "https://x.example/cb" in redirect.message
    assert "Authorized redirect URIs" in redirect.message


def test_recurrence_lines_are_read_as_content_lines_quoted_tzid_and_lower_case() -> None:
    # Given Google recurrence lines with a quoted TZID (RFC 5545 3.2: a parameter value may be a
    # quoted string), lower-case names and a line that is no content line at all
    item = {
        "id": "q",
        "start": {"dateTime": "2026-03-02T09:00:00+01:00", "timeZone": "Europe/Berlin"},
        "end": {"dateTime": "2026-03-02T09:30:00+01:00", "timeZone": "Europe/Berlin"},
        "recurrence": [
            "RRULE:FREQ=WEEKLY;COUNT=6",
            'EXDATE;TZID="America/New_York":20260316T040000',
            "exdate;tzid=Europe/Berlin:20260309T090000",
            "not a content line",
        ],
    }
    # When it is mapped
    change = classify(item, "UTC")
    # Then the quoted zone is the zone, not a name with quotes in it, and the odd line is a note
    assert isinstance(change, Upsert)
    assert change.fields["exdate"] == ["20260309T090000", "20260316T080000Z"]
    assert any("not a content line" in n for n in change.notes)
