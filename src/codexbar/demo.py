"""`codexbar --demo`: the real pipeline against the built-in simulated OpenRouter."""

from __future__ import annotations

from codexbar.credentials import Account, remember_secret
from codexbar.pipeline import Result, collect


def demo_results(*, timeout: float) -> list[Result]:
    from codexbar.testing.fake_openrouter import DEMO_KEY, DEMO_MANAGEMENT_KEY, FakeOpenRouter

    remember_secret(DEMO_KEY)
    remember_secret(DEMO_MANAGEMENT_KEY)
    with FakeOpenRouter(dataset="full") as server:
        account = Account(
            provider="openrouter",
            label="Demo",
            api_key=DEMO_KEY,
            key_source="demo",
            base_url=server.base_url,
            management_key=DEMO_MANAGEMENT_KEY,
            management_source="demo",
            management_url=server.base_url,
        )
        # The demo never touches the user's cache or history.
        return collect([account], timeout=timeout, persist=False)
