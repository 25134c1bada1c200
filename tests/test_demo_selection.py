"""`--demo` honours the provider selection, and a meter's share is decided once (money.share)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from codexbar.money import share
from codexbar.providers import PROVIDERS
from tests.conftest import CliRunner


@pytest.mark.parametrize("provider_id", sorted(PROVIDERS))
def test_demo_shows_only_the_named_provider(cli: CliRunner, provider_id: str) -> None:
    run = cli("--demo", "-p", provider_id, "--format", "json")
    assert run.code == 0, run.stderr
    assert [p["provider"] for p in json.loads(run.stdout)] == [provider_id]


def test_demo_with_a_comma_list_keeps_the_order_given(cli: CliRunner) -> None:
    names = sorted(PROVIDERS, reverse=True)[:2]
    run = cli("usage", "--demo", "--provider", ",".join(names), "--format", "json")
    assert [p["provider"] for p in json.loads(run.stdout)] == names


def test_demo_skips_a_codexbar_name_it_does_not_simulate(cli: CliRunner) -> None:
    run = cli("usage", "--demo", "--provider", "both", "--format", "json")
    assert run.code == 0
    assert "--provider both" in run.stderr
    assert {p["provider"] for p in json.loads(run.stdout)} == set(PROVIDERS)


@pytest.mark.parametrize(
    ("part", "whole", "expected"),
    [
        ("5.76551234", "20", "28.8275617"),  # ends within ten places: exact
        ("212.35", "300", "70.7833333333"),  # no end: ten places, half to even
        ("2", "3", "66.6666666667"),
        ("25", "20", "100"),  # past the limit: the share stops at 100
        ("-1", "20", "0"),
        ("0", "7", "0"),
    ],
)
def test_a_share_is_exact_or_ten_places(part: str, whole: str, expected: str) -> None:
    assert share(Decimal(part), Decimal(whole)) == Decimal(expected)


def test_no_payload_percent_runs_past_ten_places(cli: CliRunner) -> None:
    run = cli("--demo", "--format", "json")
    for payload in json.loads(run.stdout, parse_float=Decimal):
        for name in ("primary", "secondary", "tertiary"):
            window = payload["usage"].get(name)
            if window is not None:
                exponent = Decimal(window["usedPercent"]).as_tuple().exponent
                assert isinstance(exponent, int) and exponent >= -10, (payload["provider"], window)
