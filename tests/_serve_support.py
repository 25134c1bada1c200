"""Helpers for the `codexbar serve` tests: run the exporter in-process, talk HTTP to it,
read Prometheus text, fetch the fake server's raw answers to compare against, and get real
results (the provider's fetch and parse, the pipeline's history) from the simulated API
in-process, for the tests of the state, the page and the metrics without threads or sockets."""

from __future__ import annotations

import gzip
import http.client
import json
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from codexbar.clock import Clock
from codexbar.commands import serve as cmd_serve
from codexbar.http.client import HttpClient
from codexbar.http.memory import MemoryTransport
from codexbar.http.transport import Request
from codexbar.http.transport import Response as ApiResponse
from codexbar.keylist import KeyRow
from codexbar.pipeline import AccountResult, collect
from codexbar.providers.openrouter import PROVIDER
from codexbar.providers.openrouter.sample_data import SampleApi
from codexbar.rules.settings import RuleSettings
from codexbar.serve.app import Exporter
from codexbar.serve.metrics import build_registry
from codexbar.serve.page import render_page
from codexbar.serve.server import Limits
from codexbar.serve.state import KeysOutcome, ServeState, View, advance, initial_view
from tests.fakes.openrouter_server import FakeOpenRouter

LOOPBACK = "127.0.0.1"


@dataclass(frozen=True)
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")

    def json(self) -> Any:
        return json.loads(self.body, parse_float=Decimal)


def request(
    port: int,
    path: str,
    *,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    timeout: float = 5.0,
) -> Response:
    """One HTTP request to 127.0.0.1:port (http.client: no proxy settings apply)."""
    connection = http.client.HTTPConnection(LOOPBACK, port, timeout=timeout)
    try:
        connection.request(method, path, headers=headers or {})
        answer = connection.getresponse()
        body = answer.read()
        found = {k.lower(): v for k, v in answer.getheaders()}
        if found.get("content-encoding") == "gzip":
            body = gzip.decompress(body)
        return Response(answer.status, found, body)
    finally:
        connection.close()


Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse_metrics(text: str) -> Samples:
    """Every sample as (name, labels) -> value, through prometheus_client's own parser."""
    samples: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            key = (sample.name, frozenset(sample.labels.items()))
            assert key not in samples, f"duplicate series {key}"
            samples[key] = sample.value
    return samples


def scrape(port: int) -> Samples:
    answer = request(port, "/metrics")
    assert answer.status == 200, answer.text
    return parse_metrics(answer.text)


def value(samples: Samples, name: str, **labels: str) -> float:
    """The one sample of `name` whose labels include `labels`."""
    found = [
        v
        for (sample, sample_labels), v in samples.items()
        if sample == name and set(labels.items()) <= sample_labels
    ]
    assert len(found) == 1, f"{name}{labels}: {len(found)} samples"
    return found[0]


def names(samples: Samples) -> set[str]:
    return {name for name, _ in samples}


def wait_until(check: Callable[[], bool], timeout: float = 8.0, step: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(step)


def exporter_for(
    *args: str, limits: Limits | None = None, env: dict[str, str] | None = None
) -> Exporter:
    """The exporter `codexbar serve ARGS` would run, on a free loopback port, not started;
    `limits`: the HTTP server's, when not the defaults; `env`: the environment it reads the
    dashboard token from (default: none)."""
    from dataclasses import replace

    from codexbar.config import ConfigFile

    opts = cmd_serve.build_parser("codexbar serve").parse_args(["--port", "0", *args])
    access = cmd_serve.check_options(opts, env or {})
    accounts, primary = cmd_serve.configured_accounts(opts)
    access = replace(access, primary=tuple(primary), config=ConfigFile.load())
    return cmd_serve.build(opts, accounts, access=access, limits=limits)


@contextmanager
def running_demo(
    clock: Clock, history: Path, *args: str, providers: Sequence[str] | None = None
) -> Iterator[Exporter]:
    """`codexbar serve --demo ARGS` in this process, every "now" from `clock` (the
    simulated API's dates too), after its first round; `providers` narrows the demo (all of
    them by default)."""
    from codexbar.demo import demo_setup

    opts = cmd_serve.build_parser("codexbar serve").parse_args(["--port", "0", *args])
    access = cmd_serve.check_options(opts, {})
    accounts, transport = demo_setup(providers, clock=clock)
    exporter = cmd_serve.build(
        opts, accounts, access=access, demo_history=history, transport=transport, clock=clock
    ).start()
    try:
        assert exporter.refresher.state.wait_for_round(1, 15), "no first round"
        yield exporter
    finally:
        exporter.shutdown()


@contextmanager
def running(
    *args: str,
    wait: bool = True,
    limits: Limits | None = None,
    env: dict[str, str] | None = None,
) -> Iterator[Exporter]:
    """`codexbar serve ARGS` in this process; by default after its first round."""
    exporter = exporter_for(*args, limits=limits, env=env).start()
    try:
        if wait:
            assert exporter.refresher.state.wait_for_round(1, 15), "no first round"
        yield exporter
    finally:
        exporter.shutdown()


def fake_json(server: FakeOpenRouter, path: str, token: str) -> Any:
    """The fake OpenRouter's raw answer, exact numbers as Decimal: what we must match."""
    connection = http.client.HTTPConnection(LOOPBACK, server.port, timeout=5)
    try:
        connection.request("GET", f"/api/v1{path}", headers={"Authorization": f"Bearer {token}"})
        answer = connection.getresponse()
        body = answer.read()
        assert answer.status == 200, body
        return json.loads(body, parse_float=Decimal)["data"]
    finally:
        connection.close()


# --- real results without a socket ---------------------------------------------------------


def sample_results(
    clock: Clock,
    *,
    history: Path | None = None,
    status: int | None = None,
    only: str = "",
    **knobs: Any,
) -> list[AccountResult]:
    """The demo account fetched through the pipeline from the simulated API in-process,
    dated by `clock`; `history`: a history file to record into and chart from (None: no
    history at all); `status`: every request (or those to the path ending in `only`)
    answered with this HTTP status instead; `knobs`: SampleApi's (dataset, overrides...)."""
    api = SampleApi(source=clock, **knobs)
    answer = api.handler()

    def handler(request: Request) -> ApiResponse:
        if status is None or not request.url.split("?")[0].endswith(only):
            return answer(request)
        body = json.dumps({"error": {"code": status, "message": f"refused ({status})"}})
        return ApiResponse(status=status, body=body.encode())

    client = HttpClient(timeout=5, transport=MemoryTransport(handler))
    try:
        return collect(
            PROVIDER.demo_accounts(),
            timeout=5,
            clock=clock,
            persist=False,
            history_path=history,
            client=client,
        )
    finally:
        client.close()


def first_view(results: list[AccountResult], clock: Clock, *, listings: int = 0) -> View:
    """The exporter's view before any round, for these results' accounts (and `listings`
    key listings, as the first account's admin key would give)."""
    accounts = [r.account for r in results]
    owners = [(f"listing-{i}", accounts[0]) for i in range(listings)]
    return initial_view(accounts, owners, interval=60, now=clock.now())


def after_round(
    results: list[AccountResult],
    clock: Clock,
    *,
    view: View | None = None,
    keys: list[KeysOutcome] | None = None,
    settings: RuleSettings | None = None,
) -> View:
    """The view after one round that produced `results` (and `keys`, one per listing)."""
    before = view or first_view(results, clock)
    return advance(before, results, keys or [], clock.now(), settings)


def page_of(view: View, clock: Clock, chart: str = "day") -> str:
    return render_page(view, clock.now(), chart=chart)


def scrape_view(view: View) -> Samples:
    """What /metrics would say for this view (no server)."""
    return parse_metrics(generate_latest(build_registry(ServeState(view))).decode())


def key_row(name: str, label: str, key_hash: str, monthly: str = "1") -> KeyRow:
    """A key as a listing reports it (the neutral type every listing gives)."""
    from codexbar.snapshot import SpendWindows

    return KeyRow(
        hash=key_hash,
        name=name,
        label=label,
        disabled=False,
        expired=False,
        limit=None,
        limit_remaining=None,
        limit_reset=None,
        used_percent=None,
        remaining=None,
        resets_at=None,
        usage=SpendWindows(monthly=Decimal(monthly)),
        byok_usage=SpendWindows(),
        created_at=None,
        last_used_at=None,
        expires_at=None,
        workspace_id=None,
    )
