"""A fake OpenAI Admin API on 127.0.0.1 (not shipped): the product's simulated API
(`codexbar.providers.openai.sample_data.SampleApi`) behind real HTTP, with the misbehaviour of
tests/fakes/provider_server.py. Its knobs are the sample API's: `api.days` (exact results per
UTC day), `api.admin_keys`, `api.project_keys`, `api.projects`, `api.page_size`, `api.now`."""

from __future__ import annotations

from datetime import datetime

from codexbar.providers.openai.sample_data import API_PREFIX, DEMO_KEY, SampleApi
from tests.fakes.provider_server import FakeProviderServer

__all__ = ["DEMO_KEY", "FakeOpenAI"]


class FakeOpenAI(FakeProviderServer):
    prefix = API_PREFIX
    api: SampleApi

    def __init__(
        self, *, now: datetime | None = None, latency: float = 0.0, page_size: int | None = None
    ) -> None:
        super().__init__(SampleApi(now=now, page_size=page_size), latency=latency)
