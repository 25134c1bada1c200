"""`fetch_keys`: every page of GET /keys with the management key, against the fake server."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from codexbar.accounts import Account
from codexbar.errors import AuthError, ParseError, ProviderError
from codexbar.http.client import HttpClient
from codexbar.keylist import KeyRow
from codexbar.providers.openrouter.keys import fetch_keys, parse_key_row
from tests.fakes.openrouter_server import DEMO_KEY, DEMO_MANAGEMENT_KEY, FakeOpenRouter

NOW = datetime(2026, 3, 11, 15, 30, tzinfo=UTC)  # a Wednesday


@pytest.fixture(scope="module")
def big() -> Iterator[FakeOpenRouter]:
    with FakeOpenRouter(keys_count=250, now=NOW) as fake:
        yield fake


@pytest.fixture
def fake(big: FakeOpenRouter) -> Iterator[FakeOpenRouter]:
    big.clear_requests()
    big.clear_scenarios()
    yield big
    big.clear_scenarios()


@pytest.fixture
def client() -> Iterator[HttpClient]:
    http = HttpClient(timeout=10)
    yield http
    http.close()


def account(server: FakeOpenRouter, *, management: str | None = DEMO_MANAGEMENT_KEY) -> Account:
    return Account(
        provider="openrouter",
        label=None,
        api_key=DEMO_KEY,
        key_source="test",
        base_url=server.base_url,
        admin_key=management,
        admin_url=server.base_url,
    )


def test_250_keys_over_three_pages(fake: FakeOpenRouter, client: HttpClient) -> None:
    rows = fetch_keys(account(fake), client, include_disabled=True, include_expired=True, now=NOW)
    assert len(rows) == 250
    assert len({r.hash for r in rows}) == 250
    pages = fake.requests_to("/keys")
    assert [r.query["offset"] for r in pages] == ["0", "100", "200"]
    assert all(r.query["include_disabled"] == "true" for r in pages)
    assert all(r.query["include_expired"] == "true" for r in pages)
    assert {r.headers["authorization"] for r in pages} == {f"Bearer {DEMO_MANAGEMENT_KEY}"}
    assert any(r.disabled for r in rows) and any(r.expired for r in rows)
    assert "codexbar demo" in {r.name for r in rows}


def test_sorted_by_monthly_spend_largest_first(fake: FakeOpenRouter, client: HttpClient) -> None:
    rows = fetch_keys(account(fake), client, now=NOW)
    monthly = [r.usage.monthly or Decimal(0) for r in rows]
    assert monthly == sorted(monthly, reverse=True)
    assert monthly[0] > monthly[-1]


def test_disabled_and_expired_are_left_out_unless_asked(
    fake: FakeOpenRouter, client: HttpClient
) -> None:
    default = fetch_keys(account(fake), client, now=NOW)
    assert not any(r.disabled or r.expired for r in default)
    assert "include_disabled" not in fake.requests_to("/keys")[0].query
    with_disabled = fetch_keys(account(fake), client, include_disabled=True, now=NOW)
    with_expired = fetch_keys(account(fake), client, include_expired=True, now=NOW)
    everything = fetch_keys(
        account(fake), client, include_disabled=True, include_expired=True, now=NOW
    )
    assert len(default) < len(with_disabled) < len(everything)
    assert len(default) < len(with_expired) < len(everything)
    assert any(r.disabled for r in with_disabled) and not any(r.expired for r in with_disabled)
    # 250 keys, but fewer listed: paging still stops on the short last page
    assert len(default) <= 250 and len(fake.requests_to("/keys")) == 4 * 3


def test_limit_figures_are_derived_like_the_card(fake: FakeOpenRouter, client: HttpClient) -> None:
    rows = fetch_keys(account(fake), client, include_disabled=True, include_expired=True, now=NOW)
    demo = next(r for r in rows if r.name == "codexbar demo")
    assert demo.limit == Decimal(20) and demo.limit_reset == "monthly"
    assert demo.resets_at == datetime(2026, 4, 1, tzinfo=UTC)
    assert demo.used_percent is not None and demo.remaining is not None
    assert demo.limit_remaining is not None
    assert demo.remaining == demo.limit_remaining
    assert demo.used_percent == (demo.limit - demo.limit_remaining) / demo.limit * 100
    over = [r for r in rows if r.limit_remaining is not None and r.limit_remaining < 0]
    assert over, "the fake has a few keys past their limit"
    assert all(r.used_percent == 100 and r.remaining == 0 for r in over)
    unlimited = [r for r in rows if r.limit is None]
    assert unlimited and all(r.used_percent is None and r.resets_at is None for r in unlimited)


def test_management_key_goes_only_to_the_management_url(client: HttpClient) -> None:
    with FakeOpenRouter(keys_count=5) as api, FakeOpenRouter(keys_count=5) as management:
        acct = Account(
            provider="openrouter",
            label=None,
            api_key=DEMO_KEY,
            key_source="test",
            base_url=api.base_url,
            admin_key=DEMO_MANAGEMENT_KEY,
            admin_url=management.base_url,
        )
        rows = fetch_keys(acct, client, include_disabled=True, include_expired=True)
        assert len(rows) == 5
        assert api.requests == []
        # The page size is the server's: a short first page may be all, so one more look.
        assert [r.query["offset"] for r in management.requests_to("/keys")] == ["0", "5"]


def test_no_management_key_is_a_clear_error(fake: FakeOpenRouter, client: HttpClient) -> None:
    with pytest.raises(ProviderError) as caught:
        fetch_keys(account(fake, management=None), client)
    assert "management key" in caught.value.one_line()
    assert "OPENROUTER_MANAGEMENT_API_KEY" in caught.value.one_line()
    assert fake.requests == []


def test_ordinary_key_is_refused_with_a_hint(fake: FakeOpenRouter, client: HttpClient) -> None:
    with pytest.raises(AuthError) as caught:
        fetch_keys(account(fake, management=DEMO_KEY), client)
    assert caught.value.status == 403
    assert "management key" in caught.value.one_line()


def test_rejected_key_and_bad_answers(fake: FakeOpenRouter, client: HttpClient) -> None:
    with pytest.raises(AuthError, match="rejected the management key"):
        fetch_keys(account(fake, management="sk-or-v1-" + "9" * 64), client)
    fake.set_scenario("wrong_types", endpoint="/keys", times=1)
    with pytest.raises(ParseError):
        fetch_keys(account(fake), client)
    fake.set_scenario("500", endpoint="/keys", times=1)
    with pytest.raises(ProviderError, match="HTTP 500"):
        fetch_keys(account(fake), client)


def test_a_server_that_ignores_offset_does_not_loop_forever(
    fake: FakeOpenRouter, client: HttpClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from codexbar.providers.openrouter import sample_data as fake_openrouter

    original = fake_openrouter._keys_page

    def always_first_page(*args: object, **kwargs: object) -> list[object]:
        kwargs["offset"] = 0
        return original(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(fake_openrouter, "_keys_page", always_first_page)
    rows = fetch_keys(account(fake), client, include_disabled=True, include_expired=True)
    assert len(rows) == 100
    assert len(fake.requests_to("/keys")) == 2


def test_parse_is_lenient() -> None:
    assert parse_key_row("not a key", NOW) is None
    assert parse_key_row({"name": "no hash"}, NOW) is None
    row = parse_key_row(
        {
            "hash": "abc",
            "name": 42,
            "disabled": "yes",
            "limit": "lots",
            "usage": 1.5,
            "usage_monthly": None,
            "limit_reset": "hourly",
            "expires_at": (NOW - timedelta(days=1)).isoformat(),
        },
        NOW,
    )
    assert isinstance(row, KeyRow)
    assert (row.name, row.disabled, row.limit, row.limit_reset) == (None, False, None, None)
    assert row.usage.total == Decimal("1.5") and row.usage.monthly is None
    assert row.expired is True
    assert row.display_name == "abc"
