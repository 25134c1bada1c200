"""Every `/metrics` series is unique, whatever the names and labels a server or a config hold:
accounts that share name and key label, keys that share name, label and the start of their
hash. Checked through both exposition formats' parsers."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from prometheus_client.openmetrics.parser import (
    text_string_to_metric_families as parse_openmetrics,
)
from prometheus_client.parser import text_string_to_metric_families as parse_text

from codexbar.providers.openrouter import sample_data as fake_openrouter
from codexbar.secrets import remember_secret
from codexbar.serve.metrics import KEY_HASH_DIGITS, key_hash_ids
from tests._serve_support import fake_json, request, running
from tests.conftest import HOME_KEY, WORK_KEY, Home
from tests.fakes.openrouter_server import DEMO_MANAGEMENT_KEY, FakeOpenRouter

OPENMETRICS = {"Accept": "application/openmetrics-text; version=1.0.0"}
Series = tuple[str, tuple[tuple[str, str], ...]]


def all_series(port: int) -> dict[Series, float]:
    """Every sample of a scrape in both formats: no (name, labels) twice in either, and
    the same series in both."""
    found: list[dict[Series, float]] = []
    for headers, parse in ((None, parse_text), (OPENMETRICS, parse_openmetrics)):
        answer = request(port, "/metrics", headers=headers)
        assert answer.status == 200
        series: list[tuple[Series, float]] = [
            ((s.name, tuple(sorted(s.labels.items()))), s.value)
            for family in parse(answer.text)
            for s in family.samples
        ]
        keys = [key for key, _ in series]
        assert len(keys) == len(set(keys)), sorted(k for k in keys if keys.count(k) > 1)[:4]
        found.append(dict(series))
    text, openmetrics = found
    assert {k for k in text if not k[0].endswith("_created")} == {
        k for k in openmetrics if not k[0].endswith("_created")
    }
    return text


def pick(series: dict[Series, float], name: str, **labels: str) -> dict[Series, float]:
    return {
        key: value
        for key, value in series.items()
        if key[0] == name and set(labels.items()) <= set(key[1])
    }


def f(number: Any) -> float:
    return float(Decimal(str(number)))


def test_accounts_sharing_name_and_key_label_stay_apart(
    server: FakeOpenRouter, home: Home, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENROUTER_API_URL", server.base_url)
    home.write_accounts(("Work", WORK_KEY), ("Work", HOME_KEY))
    server.key_overrides["label"] = "shared label"  # both keys' /key say the same
    with running() as exporter:
        series = all_series(exporter.port)
    month = pick(series, "codexbar_spend_usd", window="month", key="shared label")
    by_account = {dict(labels)["account"]: value for (_name, labels), value in month.items()}
    # Config order: the first keeps its name, the second is told apart.
    assert by_account == {
        "Work": f(fake_json(server, "/key", WORK_KEY)["usage_monthly"]),
        "Work (2)": f(fake_json(server, "/key", HOME_KEY)["usage_monthly"]),
    }
    assert by_account["Work"] != by_account["Work (2)"]


def test_a_key_configured_twice_is_exported_once(
    server: FakeOpenRouter, home: Home, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENROUTER_API_URL", server.base_url)
    home.write_accounts(("Work", WORK_KEY), ("Home", HOME_KEY), ("Work", WORK_KEY))
    with running() as exporter:
        series = all_series(exporter.port)
    month = pick(series, "codexbar_spend_usd", window="month")
    assert sorted(dict(labels)["account"] for _name, labels in month) == ["Home", "Work"]


def test_keys_sharing_name_label_and_hash_start_stay_apart(
    server: FakeOpenRouter, api_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A hostile listing: every key named and labelled alike, every hash starting alike."""
    monkeypatch.setenv("OPENROUTER_MANAGEMENT_API_KEY", DEMO_MANAGEMENT_KEY)
    original: Callable[..., list[Any]] = fake_openrouter._keys_page

    def alike(*args: Any, **kwargs: Any) -> list[Any]:
        page = original(*args, **kwargs)
        for item in page:
            item["name"], item["label"] = "CI", "sk-or-v1-abc...1234"
            item["hash"] = "0" * (KEY_HASH_DIGITS + 2) + item["hash"][KEY_HASH_DIGITS + 2 :]
        return page

    monkeypatch.setattr(fake_openrouter, "_keys_page", alike)
    with running() as exporter:
        series = all_series(exporter.port)
    listed = fake_json(server, "/keys", DEMO_MANAGEMENT_KEY)
    assert len(listed) > 5
    month = pick(series, "codexbar_keys_spend_usd", window="month", key_name="CI")
    ids = {dict(labels)["key_hash"] for _name, labels in month}
    assert len(ids) == len(month) == len(listed)  # every key, each its own series
    assert all(len(i) > KEY_HASH_DIGITS + 2 for i in ids)  # longer, as far as needed
    expected = sorted(f(k["usage_monthly"]) for k in listed)
    assert sorted(month.values()) == expected


def test_key_hash_ids_are_short_unique_hex_and_never_a_secret() -> None:
    secret = "sk-or-v1-" + "f" * 64
    remember_secret(secret)
    plain = "ab12" * 16
    ids = key_hash_ids([plain, "ab12" * 3 + "ff", secret, "f" * 64, "Not-Hex!"])
    assert ids[plain] == plain[: KEY_HASH_DIGITS + 1]  # one more digit than the shared 12
    assert ids["ab12" * 3 + "ff"] == ("ab12" * 3 + "f")
    assert len(set(ids.values())) == len(ids)
    for shown in ids.values():
        assert all(c in "0123456789abcdef" for c in shown)
    # Not hex: shown as a digest of what it held (masked first), never the text itself.
    masked = ids[secret]
    assert masked != ids["f" * 64]
    assert masked == hashlib.sha256(b"sk-or-v1-\xe2\x80\xa6ffff").hexdigest()[: len(masked)]
    assert ids["Not-Hex!"] == hashlib.sha256(b"Not-Hex!").hexdigest()[: len(masked)]
    assert key_hash_ids([]) == {}
