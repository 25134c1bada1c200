"""`--demo`: the real pipeline against the built-in simulated OpenRouter, with no key.

Shared by `codexbar --demo`, `codexbar serve --demo` and `codexbar tray --demo`.
"""

from __future__ import annotations

from codexbar.credentials import Account, remember_secret
from codexbar.pipeline import Result, collect

TYPE_CHECKING = False
if TYPE_CHECKING:
    from codexbar.testing.fake_openrouter import FakeOpenRouter


def demo_account(server: FakeOpenRouter) -> Account:
    """The demo account: an ordinary and a management key, both sent only to the fake."""
    from codexbar.testing.fake_openrouter import DEMO_KEY, DEMO_MANAGEMENT_KEY

    remember_secret(DEMO_KEY)
    remember_secret(DEMO_MANAGEMENT_KEY)
    return Account(
        provider="openrouter",
        label="Demo",
        api_key=DEMO_KEY,
        key_source="demo",
        base_url=server.base_url,
        management_key=DEMO_MANAGEMENT_KEY,
        management_source="demo",
        management_url=server.base_url,
    )


def demo_results(*, timeout: float) -> list[Result]:
    import tempfile
    from pathlib import Path

    from codexbar.testing.fake_openrouter import FakeOpenRouter

    with FakeOpenRouter(dataset="full") as server, tempfile.TemporaryDirectory() as tmp:
        # The demo never touches the user's cache or history: it records into a throwaway
        # file, which still gives the card its chart from the simulated 30-day activity.
        return collect(
            [demo_account(server)],
            timeout=timeout,
            persist=False,
            history_path=Path(tmp) / "history.sqlite3",
        )
