"""Helpers for the `codexbar serve` tests: run the exporter in-process, talk HTTP to it,
read Prometheus text, and fetch the fake server's raw answers to compare against."""

from __future__ import annotations

import gzip
import http.client
import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from codexbar.commands import serve as cmd_serve
from codexbar.serve.app import Exporter
from codexbar.serve.server import Limits
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


def exporter_for(*args: str, limits: Limits | None = None) -> Exporter:
    """The exporter `codexbar serve ARGS` would run, on a free loopback port, not started;
    `limits`: the HTTP server's, when not the defaults."""
    opts = cmd_serve.build_parser("codexbar serve").parse_args(["--port", "0", *args])
    cmd_serve.check_options(opts)
    return cmd_serve.build(opts, cmd_serve.configured_accounts(opts), limits=limits)


@contextmanager
def running(*args: str, wait: bool = True, limits: Limits | None = None) -> Iterator[Exporter]:
    """`codexbar serve ARGS` in this process; by default after its first round."""
    exporter = exporter_for(*args, limits=limits).start()
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
