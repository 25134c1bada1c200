"""What the end-to-end tests of the API providers share: keys shaped like each provider's,
the check that nothing leaked, and a guard that keeps every connection on loopback."""

from __future__ import annotations

import hashlib
import ipaddress
import json
import socket
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from tests.conftest import CliRun, CliRunner, Home


def derived(prefix: str, seed: str, length: int = 40) -> str:
    """A key of a provider's shape, derived so no key-like literal sits in the source."""
    return prefix + hashlib.sha256(seed.encode()).hexdigest()[:length]


def today() -> date:
    return datetime.now(UTC).date()


def days_ago(n: int) -> date:
    return today() - timedelta(days=n)


def parse_json(text: str) -> Any:
    return json.loads(text, parse_float=Decimal)


def assert_clean(run: CliRun, home: Home, cli: CliRunner, keys: tuple[str, ...]) -> None:
    """No traceback, and no key in stdout, stderr, `config dump`, or any file codexbar
    wrote (cache, history, state), not even without its prefix."""
    assert "Traceback" not in run.stdout and "Traceback" not in run.stderr
    dump = cli("config", "dump")
    assert dump.code == 0
    written = [path.read_bytes() for path in home.written_files()]
    for key in keys:
        tail = key.split("-")[-1]
        for text in (run.stdout, run.stderr, dump.stdout):
            assert key not in text and tail not in text
        for body in written:
            assert key.encode() not in body and tail.encode() not in body


def one_error_line(run: CliRun) -> str:
    lines = run.stderr.splitlines()
    assert len(lines) == 1, run.stderr
    assert lines[0].startswith("Error: ")
    return lines[0]


@pytest.fixture
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[object]]:
    """Every socket this process opens must go to 127.0.0.0/8 or ::1: a test that would
    reach anywhere else fails instead (and the list says where it tried)."""
    tried: list[object] = []
    real = socket.socket.connect

    def connect(self: socket.socket, address: Any) -> None:
        host = address[0] if isinstance(address, tuple) else address
        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = False
        if not loopback:
            tried.append(address)
            raise OSError("tests connect to loopback only")
        real(self, address)

    real_lookup = socket.getaddrinfo

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else str(host)
        try:
            loopback = ipaddress.ip_address(name).is_loopback
        except ValueError:
            loopback = name == "localhost"
        if not loopback:
            tried.append(name)
            raise socket.gaierror(socket.EAI_NONAME, "tests look up loopback only")
        return real_lookup(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    yield tried
