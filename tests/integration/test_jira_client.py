"""The Jira client against the fake Jira site (Cloud and Data Center flavours) on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from teamcal.jira.client import JiraClient
from teamcal.jira.credentials import JiraCredentials
from teamcal.jira.errors import JiraAuthError, JiraConfigError, JiraNotFound, JiraTransientError
from teamcal.partners.client import PartnerClient
from teamcal.partners.errors import PartnerAddressError
from teamcal.partners.urls import parse_partner_url
from tests.jira_fake import JiraFake


@pytest.fixture(params=["cloud", "datacenter"])
def fake(request: pytest.FixtureRequest) -> Iterator[JiraFake]:
    site = JiraFake(flavor=request.param).start()
    site.add_account("bot@example.com", "secret-token", time_zone="Europe/Berlin")
    yield site
    site.stop()


def _credentials(fake: JiraFake, token: str = "secret-token") -> JiraCredentials:
    if fake.flavor == "cloud":
        return JiraCredentials("cloud", email="bot@example.com", api_token=token)
    return JiraCredentials("datacenter", personal_access_token=token)


def _client(fake: JiraFake, token: str = "secret-token") -> JiraClient:
    base = parse_partner_url(fake.url, True, base_path=None)
    return JiraClient(PartnerClient(allow_loopback=True, timeout_seconds=5), base, _credentials(fake, token))


def test_myself_names_the_account_of_either_flavour(fake: JiraFake) -> None:
    me = _client(fake).myself()
    assert me["emailAddress"] == "bot@example.com"
    assert me["timeZone"] == "Europe/Berlin"
    assert ("accountId" if fake.flavor == "cloud" else "key") in me


def test_wrong_or_revoked_credentials_are_an_auth_error(fake: JiraFake) -> None:
    with pytest.raises(JiraAuthError) as wrong:
        _client(fake, "nope").myself()
    assert wrong.value.status == 401
    fake.revoke("secret-token")
    with pytest.raises(JiraAuthError):
        _client(fake).myself()


def test_search_pages_through_every_issue_with_the_flavours_own_paging(fake: JiraFake) -> None:
    # Given 250 issues with a due date
    for n in range(250):
        fake.put_issue(f"P-{n}", 10336, summary=f"issue {n}", duedate="2026-12-01")
    client = _client(fake)
    # When every page is read
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while pages < 10:
        page = client.search("project = 10336 AND (duedate is not EMPTY) ORDER BY id", ["summary", "duedate"], cursor)
        seen += [i["key"] for i in page.items]
        pages += 1
        cursor = page.cursor
        if cursor is None:
            break
    # Then each issue came once, in three pages
    assert len(seen) == len(set(seen)) == 250
    assert pages == 3
    assert fake.count("/search/jql" if fake.flavor == "cloud" else "/rest/api/2/search") == 3


def test_unknown_field_in_jql_is_a_configuration_error(fake: JiraFake) -> None:
    with pytest.raises(JiraConfigError, match="Field 'nosuch' does not exist"):
        _client(fake).search("(nosuch is not EMPTY)", ["summary"], None)


def test_429_carries_retry_after_and_5xx_is_transient(fake: JiraFake) -> None:
    fake.fail_next(1, 429, "7")
    with pytest.raises(JiraTransientError) as limited:
        _client(fake).fields()
    assert limited.value.retry_after == 7.0
    fake.fail_next(1, 503, None)
    with pytest.raises(JiraTransientError) as down:
        _client(fake).fields()
    assert down.value.retry_after is None
    assert _client(fake).fields()["duedate"] == "date"


def test_sprints_and_versions_page_and_unknown_ones_are_404(fake: JiraFake) -> None:
    for n in range(60):
        fake.add_sprint(132, n + 1, f"S{n}", "closed", "2026-01-01T09:00:00.000Z", "2026-01-14T17:00:00.000Z")
    fake.add_version(10371, 1, "1.0", release_date="2026-12-24")
    client = _client(fake)
    first = client.sprints(132, None)
    second = client.sprints(132, first.cursor)
    assert (len(first.items), len(second.items), second.cursor) == (50, 10, None)
    versions = client.versions(10371, None)
    assert [v["name"] for v in versions.items] == ["1.0"]
    assert versions.cursor is None
    with pytest.raises(JiraNotFound, match="board 999"):
        client.sprints(999, None)
    with pytest.raises(JiraNotFound, match="project 1"):
        client.versions(1, None)


@pytest.mark.parametrize(
    "url",
    ["http://jira.example.com", "https://10.0.0.7", "https://169.254.169.254", "ftp://jira.example.com"],
)
def test_base_url_goes_through_the_partner_guard(url: str) -> None:
    with pytest.raises(PartnerAddressError):
        parse_partner_url(url, False, base_path=None)


def test_credentials_never_show_their_secret() -> None:
    cloud = JiraCredentials("cloud", email="a@b.c", api_token="tok-123")
    dc = JiraCredentials("datacenter", personal_access_token="pat-456")
    assert "tok-123" not in repr(cloud)
    assert "pat-456" not in repr(dc)
    assert JiraCredentials.from_json(cloud.to_json()) == cloud
    assert dc.authorization() == "Bearer pat-456"
    assert cloud.authorization().startswith("Basic ")
