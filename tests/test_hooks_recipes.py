"""The hook recipes in docs/hooks/, each against a local HTTP receiver on 127.0.0.1 (the
service URL overridden, so nothing leaves loopback): method, path, headers and body."""

from __future__ import annotations

import glob
import hashlib
import hmac
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from codexbar.hooks.events import HookEvent, sample_event
from codexbar.hooks.model import HookRule
from codexbar.hooks.runner import run_rule

RECIPES = Path(__file__).resolve().parent.parent / "docs" / "hooks"
NOW = datetime(2026, 7, 16, 9, 30, tzinfo=UTC)
EVENT = HookEvent(
    "quota_low",
    "openrouter",
    NOW,
    account="Work",
    window="session",
    usage_percent=0.82,
    reset_at=datetime(2026, 7, 16, 12, 0, tzinfo=UTC),
)
# Tokens shaped like real ones, derived so no secret-looking literal sits in the source.
TOKEN = hashlib.sha256(b"codexbar recipes: token").hexdigest()[:24]


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> object:
        return json.loads(self.body)


@dataclass
class Receiver:
    url: str
    requests: list[Seen] = field(default_factory=list)
    status: int = 200
    location: str | None = None


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    state = Receiver(f"http://127.0.0.1:{server.server_address[1]}")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            headers = {k.lower(): v for k, v in self.headers.items()}
            state.requests.append(Seen(self.command, self.path, headers, body))
            self.send_response(state.status)
            if state.location:
                self.send_header("Location", state.location)
            answer = b'{"ok":true}'
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        do_GET = do_POST

        def log_message(self, *args: object) -> None:
            pass

    server.RequestHandlerClass = Handler
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def run_recipe(
    name: str,
    *args: str,
    payload: bytes | None = None,
    env: dict[str, str] | None = None,
    python: str = sys.executable,
) -> subprocess.CompletedProcess[str]:
    # The environment a hook gets: no proxies, no keys; settings come as arguments.
    base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/")}
    return subprocess.run(
        [python, str(RECIPES / name), *args],
        input=(EVENT.payload() if payload is None else payload).decode(),
        capture_output=True,
        text=True,
        env={**base, **(env or {})},
        timeout=30,
        check=False,
    )


# --- each service -----------------------------------------------------------------------


def test_ntfy(receiver: Receiver) -> None:
    done = run_recipe(
        "ntfy.py", f"NTFY_URL={receiver.url}", "NTFY_TOPIC=alerts", f"NTFY_TOKEN={TOKEN}"
    )
    assert (done.returncode, done.stderr) == (0, "")
    [seen] = receiver.requests
    assert (seen.method, seen.path) == ("POST", "/")
    assert seen.headers["content-type"] == "application/json"
    assert seen.headers["authorization"] == f"Bearer {TOKEN}"
    assert seen.headers["user-agent"] == "codexbar-hook/1"
    assert seen.json() == {
        "topic": "alerts",
        "title": "OpenRouter (Work)",
        "message": "session quota 82% used, resets 2026-07-16T12:00:00Z",
        "priority": 3,
        "tags": ["codexbar", "quota_low"],
    }


def test_ntfy_urgent_and_without_token(receiver: Receiver) -> None:
    payload = sample_event("quota_reached", "openrouter", NOW).payload()
    done = run_recipe("ntfy.py", f"NTFY_URL={receiver.url}/", "NTFY_TOPIC=t", payload=payload)
    assert done.returncode == 0, done.stderr
    [seen] = receiver.requests
    assert seen.path == "/" and "authorization" not in seen.headers
    body = seen.json()
    assert isinstance(body, dict)
    assert (body["title"], body["message"], body["priority"]) == (
        "OpenRouter",
        "session quota used up (100%)",
        4,
    )


def test_slack(receiver: Receiver) -> None:
    url = f"{receiver.url}/services/T000/B000/{TOKEN}"
    event = HookEvent(
        "quota_reached",
        "openrouter",
        NOW,
        account="<!channel> & co",
        window="session",
        usage_percent=1,
    )
    done = run_recipe("slack.py", f"SLACK_WEBHOOK_URL={url}", payload=event.payload())
    assert done.returncode == 0, done.stderr
    [seen] = receiver.requests
    assert (seen.method, seen.path) == ("POST", f"/services/T000/B000/{TOKEN}")
    assert seen.headers["content-type"] == "application/json"
    assert seen.json() == {
        "text": "*OpenRouter (&lt;!channel&gt; &amp; co)*: session quota used up (100%)"
    }


def test_discord(receiver: Receiver) -> None:
    url = f"{receiver.url}/api/webhooks/123/{TOKEN}"
    payload = HookEvent(
        "refresh_failed", "openrouter", NOW, account="@everyone", status="timeout"
    ).payload()
    done = run_recipe("discord.py", f"DISCORD_WEBHOOK_URL={url}", payload=payload)
    assert done.returncode == 0, done.stderr
    [seen] = receiver.requests
    assert (seen.method, seen.path) == ("POST", f"/api/webhooks/123/{TOKEN}")
    assert seen.headers["content-type"] == "application/json"
    assert seen.json() == {
        "content": "**OpenRouter (@everyone)**: refresh failed (timeout)",
        "allowed_mentions": {"parse": []},
    }


def test_telegram(receiver: Receiver) -> None:
    done = run_recipe(
        "telegram.py",
        f"TELEGRAM_API_URL={receiver.url}",
        f"TELEGRAM_BOT_TOKEN=123456:{TOKEN}",
        "TELEGRAM_CHAT_ID=-1001234567890",
    )
    assert done.returncode == 0, done.stderr
    [seen] = receiver.requests
    assert (seen.method, seen.path) == ("POST", f"/bot123456:{TOKEN}/sendMessage")
    assert seen.headers["content-type"] == "application/json"
    assert seen.json() == {
        "chat_id": "-1001234567890",
        "text": "OpenRouter (Work): session quota 82% used, resets 2026-07-16T12:00:00Z",
        "disable_web_page_preview": True,
    }


def test_webhook_forwards_the_event_as_received(receiver: Receiver) -> None:
    secret = "shared-" + TOKEN
    done = run_recipe(
        "webhook.py",
        f"WEBHOOK_URL={receiver.url}/codexbar?source=hook",
        f"WEBHOOK_TOKEN={TOKEN}",
        f"WEBHOOK_SECRET={secret}",
    )
    assert done.returncode == 0, done.stderr
    [seen] = receiver.requests
    assert (seen.method, seen.path) == ("POST", "/codexbar?source=hook")
    assert seen.body == EVENT.payload()
    assert seen.headers["content-type"] == "application/json"
    assert seen.headers["authorization"] == f"Bearer {TOKEN}"
    assert seen.headers["x-codexbar-event"] == "quota_low"
    # What a receiver checks: HMAC-SHA256 of the raw body with the shared secret.
    expected = hmac.new(secret.encode(), seen.body, hashlib.sha256).hexdigest()
    assert seen.headers["x-codexbar-signature"] == f"sha256={expected}"


def test_webhook_without_token_or_secret(receiver: Receiver) -> None:
    done = run_recipe("webhook.py", f"WEBHOOK_URL={receiver.url}/")
    assert done.returncode == 0, done.stderr
    [seen] = receiver.requests
    assert "authorization" not in seen.headers and "x-codexbar-signature" not in seen.headers


# --- our own money events, worded -------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("balance_low", "balance $4.20, below $5.00"),
        ("budget_spent", "daily budget spent: $10.00 of $10.00"),
        ("topped_up", "topped up $20.00, balance $24.20"),
        ("spend_spike", "meta-llama/llama-3.3-70b spent $12.40, 5.2x its 7-day average"),
        ("key_changed", "key ci-runner changed: $25.00 weekly → $10.00 daily (manual)"),
    ],
)
def test_own_events_are_worded(receiver: Receiver, name: str, message: str) -> None:
    payload = sample_event(name, "openrouter", NOW).payload()
    done = run_recipe("ntfy.py", f"NTFY_URL={receiver.url}", "NTFY_TOPIC=t", payload=payload)
    assert done.returncode == 0, done.stderr
    body = receiver.requests[0].json()
    assert isinstance(body, dict)
    assert body["message"] == message


# --- settings, failures -----------------------------------------------------------------


def test_settings_file_holds_the_secret(receiver: Receiver, tmp_path: Path) -> None:
    secrets = tmp_path / "secrets.env"
    secrets.write_text(
        "# codexbar hooks\n\n"
        f"export SLACK_WEBHOOK_URL='{receiver.url}/services/{TOKEN}'\n"
        'NTFY_TOPIC = "ignored here"\n'
    )
    secrets.chmod(0o600)
    done = run_recipe("slack.py", str(secrets))
    assert done.returncode == 0, done.stderr
    assert receiver.requests[0].path == f"/services/{TOKEN}"


def test_an_argument_beats_the_settings_file(receiver: Receiver, tmp_path: Path) -> None:
    secrets = tmp_path / "secrets.env"
    secrets.write_text(f"NTFY_URL={receiver.url}\nNTFY_TOPIC=from-file\n")
    done = run_recipe("ntfy.py", str(secrets), "NTFY_TOPIC=from-argument")
    assert done.returncode == 0, done.stderr
    body = receiver.requests[0].json()
    assert isinstance(body, dict) and body["topic"] == "from-argument"


def test_without_stdin_the_environment_is_the_event(receiver: Receiver) -> None:
    env = EVENT.environment()
    done = run_recipe("webhook.py", f"WEBHOOK_URL={receiver.url}/", payload=b"", env=env)
    assert done.returncode == 0, done.stderr
    forwarded = receiver.requests[0].json()
    assert forwarded == {
        "account": "Work",
        "event": "quota_low",
        "provider": "openrouter",
        "resetAt": "2026-07-16T12:00:00Z",
        "timestamp": "2026-07-16T09:30:00Z",
        "usagePercent": "0.82",
        "window": "session",
    }


@pytest.mark.parametrize("status", [400, 403, 500])
def test_a_refusal_fails_with_one_line_that_names_no_secret(
    receiver: Receiver, status: int
) -> None:
    receiver.status = status
    url = f"{receiver.url}/services/{TOKEN}"
    done = run_recipe("slack.py", f"SLACK_WEBHOOK_URL={url}")
    assert done.returncode == 1
    assert done.stderr == f"slack: the server answered HTTP {status}\n"
    assert TOKEN not in done.stdout + done.stderr


def test_a_redirect_is_not_followed(receiver: Receiver) -> None:
    receiver.status = 307
    receiver.location = f"{receiver.url}/elsewhere"
    done = run_recipe("webhook.py", f"WEBHOOK_URL={receiver.url}/", f"WEBHOOK_TOKEN={TOKEN}")
    assert done.returncode == 1
    assert [seen.path for seen in receiver.requests] == ["/"]
    assert TOKEN not in done.stderr


def test_unreachable_and_misconfigured() -> None:
    done = run_recipe(
        "telegram.py",
        "TELEGRAM_API_URL=http://127.0.0.1:9",
        f"TELEGRAM_BOT_TOKEN={TOKEN}",
        "TELEGRAM_CHAT_ID=1",
    )
    assert done.returncode == 1
    assert done.stderr.startswith("telegram: cannot reach the server (")
    assert TOKEN not in done.stderr
    missing = run_recipe("ntfy.py")
    assert (missing.returncode, missing.stderr) == (
        1,
        "ntfy: NTFY_TOPIC is not set (pass NTFY_TOPIC=... or a settings file)\n",
    )
    bad_scheme = run_recipe("webhook.py", "WEBHOOK_URL=file:///etc/passwd")
    assert bad_scheme.returncode == 1 and "https://" in bad_scheme.stderr
    garbage = run_recipe("webhook.py", "WEBHOOK_URL=http://127.0.0.1:9/", payload=b"[1,2]")
    assert (garbage.returncode, garbage.stderr) == (1, "webhook: stdin is not a JSON event\n")
    no_file = run_recipe("slack.py", "/nonexistent/secrets.env")
    assert no_file.returncode == 1 and "cannot read settings file" in no_file.stderr


# --- through the hook runner ------------------------------------------------------------


@pytest.mark.skipif(os.name != "posix", reason="executable scripts with a shebang")
def test_a_recipe_as_a_real_hook(receiver: Receiver, tmp_path: Path) -> None:
    """As the rule in docs/hooks/README.md runs it: our runner, its filtered environment."""
    rule = HookRule(
        "quota_low",
        sys.executable,
        arguments=(str(RECIPES / "ntfy.py"), f"NTFY_URL={receiver.url}", "NTFY_TOPIC=alerts"),
    )
    result = run_rule(rule, EVENT)
    assert result.success, (result.reason, result.stderr)
    body = receiver.requests[0].json()
    assert isinstance(body, dict) and body["message"].startswith("session quota 82% used")


def test_recipes_are_executable_and_stdlib_only() -> None:
    scripts = sorted(RECIPES.glob("*.py"))
    assert [p.name for p in scripts] == [
        "codexbar_hook.py",
        "discord.py",
        "ntfy.py",
        "slack.py",
        "telegram.py",
        "webhook.py",
    ]
    for script in scripts:
        text = script.read_text()
        if script.name != "codexbar_hook.py":
            assert text.startswith("#!/usr/bin/env python3\n")
            if os.name == "posix":
                assert os.access(script, os.X_OK), script.name
        assert "codexbar." not in text.replace("codexbar_hook", "")  # no import of ours
    readme = (RECIPES / "README.md").read_text()
    for script in scripts:
        assert script.name in readme


def _old_python() -> str | None:
    """Python 3.9, the oldest the recipes promise, when this machine has one."""
    roots = [os.environ.get("PYENV_ROOT", ""), str(Path.home() / ".pyenv")]
    for root in filter(None, roots):
        for candidate in sorted(glob.glob(f"{root}/versions/3.9*/bin/python3.9")):
            return candidate
    return None


@pytest.mark.skipif(_old_python() is None, reason="no Python 3.9 here")
def test_recipes_run_on_python_3_9(receiver: Receiver) -> None:
    python = _old_python()
    assert python is not None
    payload = sample_event("balance_low", "openrouter", NOW).payload()
    for name, setting in [
        ("ntfy.py", f"NTFY_URL={receiver.url}"),
        ("slack.py", f"SLACK_WEBHOOK_URL={receiver.url}/s"),
        ("discord.py", f"DISCORD_WEBHOOK_URL={receiver.url}/d"),
        ("webhook.py", f"WEBHOOK_URL={receiver.url}/w"),
    ]:
        done = run_recipe(name, setting, "NTFY_TOPIC=t", payload=payload, python=python)
        assert done.returncode == 0, (name, done.stderr)
    assert len(receiver.requests) == 4
    assert Decimal("4.2") == json.loads(receiver.requests[3].body, parse_float=Decimal)["balance"]
