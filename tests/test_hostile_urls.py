"""Base URLs: one reading decides, the one urllib3 connects with.

`http://OTHER:PORT\\@127.0.0.1/api/v1` once passed the "http only to loopback" check
(urlsplit saw 127.0.0.1) while urllib3 connected to OTHER with the key in clear text. Here
OTHER is 127.0.0.2, a second loopback address with its own server, so a test can prove that
nothing reached it; no test sends anything outside 127.0.0.0/8.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from urllib3.util import parse_url

from codexbar.accounts import normalize_api_url
from codexbar.errors import EXIT_USAGE, UsageError
from tests.conftest import TEST_KEY, CliRunner, Home, run_cli
from tests.fakes.hostile import HostileServer

PASSWORD = "hunter2-not-for-anyone"


@pytest.fixture
def good() -> Iterator[HostileServer]:
    with HostileServer() as server:
        yield server.play_openrouter()


@pytest.fixture
def other() -> Iterator[HostileServer]:
    """ "Another host": 127.0.0.2, which must never see a connection."""
    with HostileServer(host="127.0.0.2") as server:
        yield server.play_openrouter()


def hostile_urls(good: HostileServer, other: HostileServer) -> dict[str, str]:
    here, there = f"127.0.0.1:{good.port}", f"127.0.0.2:{other.port}"
    return {
        "backslash before @": f"http://{there}\\@{here}/api/v1",
        "backslash alone": f"http://{there}\\{here}/api/v1",
        "userinfo": f"http://user:{PASSWORD}@{here}/api/v1",
        "userinfo to another host": f"http://user:{PASSWORD}@{there}/api/v1",
        "@ after a fragment": f"http://{there}#@{here}/api/v1",
        "space in the host": f"http://127.0.0.1 :{good.port}/api/v1",
        "tab in the path": f"http://{here}/api\tv1",
        "escape in the path": f"http://{here}/api/v1\x1b[2J",
        "bidi override": f"http://{here}/api/\u202ev1",
        "percent-encoded host": f"http://%31%32%37.0.0.1:{good.port}/api/v1",
        "query": f"http://{here}/api/v1?next=/",
        "clear text elsewhere": f"http://{there.replace('127.0.0.2', 'example.com')}/api/v1",
    }


CASES = [
    "backslash before @",
    "backslash alone",
    "userinfo",
    "userinfo to another host",
    "@ after a fragment",
    "space in the host",
    "tab in the path",
    "escape in the path",
    "bidi override",
    "percent-encoded host",
    "query",
    "clear text elsewhere",
]
SOURCES = ["--api-url", "OPENROUTER_API_URL", "OPENROUTER_MANAGEMENT_API_URL", "enterpriseHost"]


def use(source: str, url: str, home: Home, monkeypatch: pytest.MonkeyPatch, safe: str) -> list[str]:
    """Set `url` where `source` says (the other URL at the `safe` server); the extra flags."""
    monkeypatch.setenv("OPENROUTER_API_KEY", TEST_KEY)
    monkeypatch.setenv("OPENROUTER_MANAGEMENT_API_URL", safe)
    monkeypatch.setenv("OPENROUTER_API_URL", safe)
    if source == "--api-url":
        return ["--api-url", url]
    if source == "enterpriseHost":
        monkeypatch.delenv("OPENROUTER_API_URL")
        home.write_config(
            {"version": 1, "providers": [{"id": "openrouter", "enterpriseHost": url}]}
        )
        return []
    monkeypatch.setenv(source, url)
    return []


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize("case", CASES)
def test_a_hostile_base_url_is_refused_before_any_connection(
    cli: CliRunner,
    home: Home,
    monkeypatch: pytest.MonkeyPatch,
    good: HostileServer,
    other: HostileServer,
    source: str,
    case: str,
) -> None:
    url = hostile_urls(good, other)[case]
    flags = use(source, url, home, monkeypatch, good.base_url)
    run = cli("-p", "or", *flags)
    assert run.code == EXIT_USAGE, run.stdout + run.stderr
    (line,) = run.stderr.splitlines()
    assert source in line
    assert PASSWORD not in run.stdout + run.stderr
    assert "\x1b" not in line and "\t" not in line and "\u202e" not in line
    assert other.connections == 0
    assert good.connections == 0


@pytest.mark.parametrize(
    "args",
    [
        ["-p", "or"],
        ["-p", "or", "--format", "json"],
        ["-p", "or", "--format", "waybar"],
        ["guard", "-p", "or", "--max-percent", "90"],
        ["diagnose"],
        ["watch", "-p", "or", "-n", "1"],
    ],
)
def test_the_password_never_shows_and_nothing_connects(
    good: HostileServer, other: HostileServer, args: list[str]
) -> None:
    env = {
        "OPENROUTER_API_KEY": TEST_KEY,
        "OPENROUTER_API_URL": f"http://user:{PASSWORD}@127.0.0.1:{good.port}/api/v1",
    }
    run = run_cli(args, env=env)
    # guard is CodexBar's: a bad endpoint is a failed fetch there, "unknown" (69), not 64
    assert run.code == (69 if args[0] == "guard" else EXIT_USAGE)
    assert PASSWORD not in run.stdout + run.stderr
    assert "user:password@" in run.stderr  # says why, without the URL
    assert good.connections == other.connections == 0


def test_config_validate_does_not_echo_the_password(cli: CliRunner, home: Home) -> None:
    url = f"https://admin:{PASSWORD}@proxy.example.com/api/v1"
    home.write_config({"version": 1, "providers": [{"id": "openrouter", "enterpriseHost": url}]})
    run = cli("config", "validate")
    assert run.code == EXIT_USAGE
    assert "enterpriseHost" in run.stdout + run.stderr
    assert PASSWORD not in run.stdout + run.stderr


def test_the_loopback_server_itself_is_still_reachable(
    cli: CliRunner, monkeypatch: pytest.MonkeyPatch, good: HostileServer
) -> None:
    # The control case: the same server, named plainly, answers (trailing slash and all).
    monkeypatch.setenv("OPENROUTER_API_KEY", TEST_KEY)
    monkeypatch.setenv("OPENROUTER_API_URL", f"HTTP://127.0.0.1:{good.port}/api/v1/")
    run = cli("-p", "or", "--format", "json")
    assert run.code == 0, run.stderr
    assert json.loads(run.stdout)[0]["openrouter"]["keyLabel"] == "hostile-test"
    assert [r.path for r in good.requests if r.path.endswith("/key")] == ["/api/v1/key"]


@pytest.mark.parametrize(
    "raw",
    [
        "https://proxy.example.com/api\x00/v1",  # only a config file can hold a NUL
        "https://proxy.example.com\u00a0/api",  # no-break space
        "https://proxy.example.com/a\u0085pi",  # C1 next-line
        "https://proxy.example.com/\u200bapi",  # zero-width space
        "https://bücher.example/api",  # non-ASCII host: its xn-- form is the one to give
        "https://[::1/api",
        "https://[1.2.3.4]/api",
        "https://proxy.example.com:0/api",
        "https://proxy.example.com:65536/api",
        "https://proxy.example.com:8o/api",
        "https:///api",
        "https://.../api",
        "http://127.0.0.1.example.com/api",
        "http://[::ffff:7f00:1]:80/api",  # loopback to some stacks, not to ours: refused
    ],
)
def test_odd_urls_are_refused_without_a_connection(raw: str) -> None:
    with pytest.raises(UsageError) as info:
        normalize_api_url(raw, variable="V")
    assert info.value.message.startswith("V")
    assert "\x00" not in info.value.message and "\u200b" not in info.value.message


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("HTTPS://OpenRouter.AI/api/v1/", "https://openrouter.ai/api/v1"),
        ("http://127.0.0.1:08080/api", "http://127.0.0.1:8080/api"),
        ("http://[::1]/", "http://[::1]"),
        ("http://[0:0:0:0:0:0:0:1]:9/x", "http://[0:0:0:0:0:0:0:1]:9/x"),
        ("https://proxy.example.com./or/", "https://proxy.example.com./or"),
        ("https://internal_host/api/v1", "https://internal_host/api/v1"),
        ("https://h.example/a%20b/~x/", "https://h.example/a%20b/~x"),
    ],
)
def test_plain_urls_are_kept(raw: str, normal: str) -> None:
    assert normalize_api_url(raw, variable="V") == normal


# --- the agreement with urllib3, for every URL accepted -------------------------------------------

TRICKY = st.sampled_from(
    ["@", "\\", ":", "/", "//", "%", "%2e", "[", "]", "#", "?", ".", " ", "\t", "\x1b", "\u3002"]
)
HOSTS = st.one_of(
    st.sampled_from(
        [
            *("127.0.0.1", "127.0.0.2", "localhost", "[::1]", "[::ffff:127.0.0.1]"),
            *("example.com", "10.0.0.1", "127.1", "0x7f.0.0.1", "2130706433", "localhost."),
        ]
    ),
    st.text(alphabet="abcxyz0189-_.", min_size=1, max_size=8),
)


@st.composite
def urls(draw: st.DrawFn) -> str:
    """Mostly well-formed base URLs, some with a tricky piece slipped in somewhere."""
    scheme = draw(st.sampled_from(["http://", "https://", "HTTP://", "", "ftp://"]))
    port = draw(st.one_of(st.none(), st.integers(0, 70000)))
    path = draw(st.lists(st.text(alphabet="apiv1-._~%", max_size=4), max_size=3))
    url = scheme + draw(HOSTS) + (f":{port}" if port is not None else "") + "/" + "/".join(path)
    for _ in range(draw(st.integers(0, 2))):
        at = draw(st.integers(0, len(url)))
        url = url[:at] + draw(TRICKY) + url[at:]
    return url


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=urls())
def test_every_accepted_url_reads_the_same_to_urllib3(raw: str) -> None:
    try:
        normal = normalize_api_url(raw, variable="V")
    except UsageError as exc:
        assert PASSWORD not in exc.message
        if "@" in raw:  # never echoed: it may hold a password
            assert exc.message.startswith("V must not contain user:password@ (or any '@');")
        return
    ours = urlsplit(normal)
    theirs = parse_url(normal)
    assert theirs.url == normal  # exactly the URL urllib3 will request (paths appended)
    assert theirs.auth is None
    assert theirs.scheme == ours.scheme
    assert (theirs.host or "").strip("[]") == ours.hostname
    assert theirs.port == ours.port
    assert (theirs.path or "") == ours.path
    assert theirs.query is None and theirs.fragment is None
    # And urllib3 reads the raw text (as given, scheme added) to the same host.
    given_url = raw.strip() if "://" in raw else f"https://{raw.strip()}"
    assert (parse_url(given_url).host or "").lower() == theirs.host
    if theirs.scheme == "http":
        host = (theirs.host or "").strip("[]")
        assert host == "localhost" or ipaddress.ip_address(host).is_loopback
