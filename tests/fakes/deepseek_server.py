"""A fake DeepSeek API on 127.0.0.1 (not shipped): the product's simulated GET /user/balance
(`codexbar.providers.deepseek.sample_data.SampleApi`) behind real HTTP, with the misbehaviour
of tests/fakes/provider_server.py. Knobs: `api.keys`, `api.balances`, `api.is_available`,
`api.body` (a whole answer of a test's own)."""

from __future__ import annotations

from datetime import datetime

from codexbar.providers.deepseek.sample_data import DEMO_KEY, SampleApi, entry
from tests.fakes.provider_server import FakeProviderServer

__all__ = ["DEMO_KEY", "FakeDeepSeek", "entry"]


class FakeDeepSeek(FakeProviderServer):
    api: SampleApi

    def __init__(self, *, now: datetime | None = None, latency: float = 0.0) -> None:
        super().__init__(SampleApi(now=now), latency=latency)
