"""A fake LiteLLM gateway on 127.0.0.1 (not shipped): the product's simulated /key/info,
/user/info and /team/info (`codexbar.providers.litellm.sample_data.SampleApi`) behind real
HTTP, with the misbehaviour of tests/fakes/provider_server.py. Knobs: `api.keys` (virtual key
-> its info), `api.users`, `api.teams`, `api.user_teams`, `api.echo_key`."""

from __future__ import annotations

from datetime import datetime

from codexbar.providers.litellm.sample_data import DEMO_KEY, SampleApi
from tests.fakes.provider_server import FakeProviderServer

__all__ = ["DEMO_KEY", "FakeLiteLLM"]


class FakeLiteLLM(FakeProviderServer):
    api: SampleApi

    def __init__(self, *, now: datetime | None = None, latency: float = 0.0) -> None:
        super().__init__(SampleApi(now=now), latency=latency)
