"""`--demo`: the real pipeline against every provider's simulated API, with no key and no
socket: each provider's sample data answers through the in-process transport.

Shared by every command's `--demo`. The demo never touches the user's config, cache,
history or state: `sandbox()` points all of them into a throwaway folder for the run (the
CLI enters it for any command given `--demo`), and results are recorded into a throwaway
history file, which still gives the card its chart from the simulated activity.
"""

from __future__ import annotations

from contextlib import contextmanager

from codexbar.accounts import Account
from codexbar.clock import SYSTEM, Clock
from codexbar.providers import PROVIDERS, load

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence
    from pathlib import Path

    from codexbar.http.client import HttpClient
    from codexbar.http.memory import Handler, MemoryTransport
    from codexbar.pipeline import AccountResult


def _origin(url: str) -> str:
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}"


def demo_setup(
    provider_ids: Sequence[str] | None = None, *, clock: Clock = SYSTEM, latency: float = 0.0
) -> tuple[list[Account], MemoryTransport]:
    """The demo accounts of these providers (all by default) and one in-process transport
    that routes each request to its provider's simulated API by origin."""
    from codexbar.http.memory import MemoryTransport
    from codexbar.http.transport import Request, Response

    accounts: list[Account] = []
    routes: dict[str, Handler] = {}
    for provider_id in provider_ids or list(PROVIDERS):
        provider = load(provider_id)
        handler = provider.demo_handler(clock)
        for account in provider.demo_accounts():
            accounts.append(account)
            routes[_origin(account.base_url)] = handler
            routes[_origin(account.admin_url)] = handler

    def route(request: Request) -> Response:
        handler = routes.get(_origin(request.url))
        if handler is None:  # nothing leaves the process in the demo
            return Response(status=404, body=b'{"error":{"message":"not in the demo"}}')
        return handler(request)

    return accounts, MemoryTransport(route, latency=latency)


def demo_client(
    provider_ids: Sequence[str] | None = None, *, timeout: float, clock: Clock = SYSTEM
) -> tuple[list[Account], HttpClient]:
    from codexbar.http.client import HttpClient

    accounts, transport = demo_setup(provider_ids, clock=clock)
    return accounts, HttpClient(timeout=timeout, transport=transport)


def demo_results(
    provider_ids: Sequence[str] | None = None,
    *,
    timeout: float,
    clock: Clock = SYSTEM,
    history_path: Path | None = None,
) -> list[AccountResult]:
    import tempfile
    from pathlib import Path

    from codexbar.pipeline import collect

    accounts, client = demo_client(provider_ids, timeout=timeout, clock=clock)
    with tempfile.TemporaryDirectory() as tmp:
        return collect(
            accounts,
            timeout=timeout,
            clock=clock,
            persist=False,
            history_path=history_path or Path(tmp) / "history.sqlite3",
            client=client,
        )


# Where codexbar finds the user's files (paths.py reads these first): a demo points both away.
_HOME_VARIABLES = ("CODEXBAR_HOME", "CODEXBAR_CONFIG")


@contextmanager
def sandbox() -> Iterator[Path]:
    """For the length of a demo, codexbar's config, settings, cache, history and state live
    in a throwaway folder. Every path comes from `paths.py`, which reads CODEXBAR_HOME and
    CODEXBAR_CONFIG before anything else, so no code path of the run (rule settings, alert
    state, `watch`'s cache) can read or write the user's files, whatever it asks for."""
    import os
    import tempfile
    from pathlib import Path

    saved = {name: os.environ.get(name) for name in _HOME_VARIABLES}
    with tempfile.TemporaryDirectory(prefix="codexbar-demo-") as folder:
        root = Path(folder)
        os.environ["CODEXBAR_HOME"] = str(root)
        os.environ["CODEXBAR_CONFIG"] = str(root / "config.json")  # never written
        try:
            yield root
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
