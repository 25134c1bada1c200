"""Test helpers: the CLI's JSON payload and card view for a snapshot built by hand."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from codexbar.accounts import Account
from codexbar.errors import CodexbarError
from codexbar.history.model import Forecast, SpendHistory
from codexbar.pipeline import AccountResult
from codexbar.render.json_payload import payload
from codexbar.render.view import CardView, build
from codexbar.snapshot import Snapshot
from tests.codexbar_decoder import assert_usage_decodes


def result_of(
    snapshot: Snapshot,
    history: SpendHistory | None = None,
    forecast: Forecast | None = None,
    error: CodexbarError | None = None,
) -> AccountResult:
    account = Account(
        provider=snapshot.provider,
        label=snapshot.account,
        api_key="sk-test-" + "0" * 24,
        key_source="test",
        base_url="https://api.invalid/v1",
    )
    return AccountResult(account, snapshot, error, history, forecast)


def view_of(
    snapshot: Snapshot,
    history: SpendHistory | None = None,
    forecast: Forecast | None = None,
    *,
    now: datetime | None = None,
) -> CardView:
    return build(result_of(snapshot, history, forecast), now or snapshot.fetched_at)


def payload_of(
    snapshot: Snapshot,
    history: SpendHistory | None = None,
    forecast: Forecast | None = None,
    *,
    now: datetime | None = None,
    error: CodexbarError | None = None,
) -> dict[str, Any]:
    result = result_of(snapshot, history, forecast, error)
    body = payload(result, build(result, now or snapshot.fetched_at))
    assert_usage_decodes([body])  # every payload a test builds is one CodexBar decodes
    return body


def section(body: dict[str, Any], title: str) -> dict[str, Any]:
    """The `usage.details` section with this title."""
    return next(d for d in body["usage"]["details"] if d.get("title") == title)


def row_value(body: dict[str, Any], title: str, label: str) -> str:
    value: str = next(r["value"] for r in section(body, title)["rows"] if r["label"] == label)
    return value
