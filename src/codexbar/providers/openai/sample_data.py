"""OpenAI's Admin API, simulated: what `--demo` shows, and what the test suite's socket fake
(tests/fakes/openai_server.py) serves.

`SampleApi.answer` gives the well-behaved answer to GET /v1/organization/costs and
/v1/organization/usage/completions: daily buckets from `start_time` to `end_time`, grouped by
line item or model, paged by `limit` (or a smaller `page_size`) with `has_more` and
`next_page`, filtered by `project_ids`. Keys: an Admin key reads everything; a project or
service-account key gets OpenAI's 401, an unknown key its 401 too.

Figures: the demo's are generated (deterministic per day); a test sets `days` to the exact
results it wants per UTC day (raw result objects, as the API writes them), and every other
day of the range is an empty bucket.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, Final

from codexbar.clock import SYSTEM, Clock
from codexbar.providers.sample import ApiRequest, Reply, handler, json_reply

API_PREFIX: Final = "/v1"
DEMO_BASE_URL: Final = "https://api.openai.invalid/v1"  # never resolved: in-process only
ENDPOINTS: Final = ("/organization/costs", "/organization/usage/completions")
DAY = 86400


def derived_key(prefix: str, seed: str) -> str:
    # Derived rather than written out so secret scanners don't flag a key-shaped literal.
    return prefix + hashlib.sha256(seed.encode()).hexdigest()[:48]


DEMO_KEY: Final = derived_key("sk-admin-", "codexbar demo: openai admin key")
DEMO_PROJECT: Final = "proj_demo"


def _error(status: int, message: str, kind: str = "invalid_request_error") -> Reply:
    return json_reply(status, {"error": {"message": message, "type": kind, "code": None}})


def _r(seed: str) -> float:
    """A deterministic number in [0, 1) for a seed."""
    return int.from_bytes(hashlib.sha256(seed.encode()).digest()[:6], "big") / 2**48


def demo_day(day: date) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The demo's costs and completions of one day: a busy weekday team, quieter weekends."""
    key = day.isoformat()
    weight = 0.35 if day.weekday() >= 5 else 1.0
    text = Decimal(str(round((1.2 + 3.1 * _r(key + "text")) * weight, 6)))
    cached = Decimal(str(round((0.05 + 0.2 * _r(key + "cached")) * weight, 6)))
    costs = [
        {
            "object": "organization.costs.result",
            "amount": {"value": float(text), "currency": "usd"},
            "line_item": "Text tokens",
            "project_id": None,
        },
        {
            "object": "organization.costs.result",
            "amount": {"value": float(cached), "currency": "usd"},
            "line_item": "Cached text tokens",
            "project_id": None,
        },
    ]
    if _r(key + "search") > 0.55:
        search = Decimal(str(round(0.25 * (1 + int(8 * _r(key + "calls"))), 2)))
        costs.append(
            {
                "object": "organization.costs.result",
                "amount": {"value": float(search), "currency": "usd"},
                "line_item": "Web search tool calls",
                "project_id": None,
            }
        )
    completions = []
    for model, scale in (("gpt-4.1", 1.0), ("gpt-4.1-mini", 2.6), ("o4-mini", 0.4)):
        requests = int((40 + 260 * _r(key + model)) * weight * scale)
        if requests == 0:
            continue
        completions.append(
            {
                "object": "organization.usage.completions.result",
                "input_tokens": requests * 1800,
                "input_cached_tokens": requests * 600,
                "output_tokens": requests * 350,
                "input_audio_tokens": 0,
                "output_audio_tokens": 0,
                "num_model_requests": requests,
                "model": model,
            }
        )
    return costs, completions


class SampleApi:
    """Answers like the Admin API. Knobs a test may change while a server runs: `days`,
    `admin_keys`, `project_keys`, `page_size`, `projects`, `now`."""

    def __init__(
        self,
        *,
        now: datetime | None = None,
        source: Clock | None = None,
        page_size: int | None = None,
    ) -> None:
        self.now = now
        self.source = source or SYSTEM
        # None: the demo's generated figures; else exactly these results per day.
        self.days: dict[date, tuple[list[Any], list[Any]]] | None = None
        self.admin_keys: set[str] = {DEMO_KEY}
        self.project_keys: set[str] = set()
        # Per project id, its own results per day; a project not listed has none.
        self.projects: dict[str, dict[date, tuple[list[Any], list[Any]]]] = {}
        self.page_size = page_size  # buckets per page; None: the request's limit

    def today(self) -> date:
        return (self.now or self.source.now()).astimezone(UTC).date()

    def _results(self, day: date, project: str | None, costs: bool) -> list[Any]:
        if project is not None:
            found = self.projects.get(project, {}).get(day)
        elif self.days is not None:
            found = self.days.get(day)
        else:
            found = demo_day(day) if day <= self.today() else None
        if found is None:
            return []
        return list(found[0] if costs else found[1])

    def answer(self, request: ApiRequest) -> Reply:
        path = request.path.removeprefix(API_PREFIX)
        if path not in ENDPOINTS:
            return _error(404, f"Invalid URL (GET {request.path})")
        token = request.token
        if token is None or (token not in self.admin_keys and token not in self.project_keys):
            return _error(401, "Incorrect API key provided.")
        if token in self.project_keys:
            return _error(
                401,
                "You have insufficient permissions for this operation. Missing scopes: "
                "api.usage.read. Check that you have the correct role in your organization.",
            )
        try:
            start = int(request.query["start_time"])
            end = int(request.query.get("end_time", str(start + 7 * DAY)))
            limit = int(request.query.get("limit", "7"))
            page = int(request.query.get("page", "0").removeprefix("page_"))
        except (KeyError, ValueError):
            return _error(400, "Invalid query")
        if not 1 <= limit <= 31 or end <= start:
            return _error(400, "limit must be between 1 and 31")
        project = request.query.get("project_ids")
        costs = path == ENDPOINTS[0]
        size = min(limit, self.page_size or limit)
        starts = list(range(start, end, DAY))[page * size : (page + 1) * size]
        data = [
            {
                "object": "bucket",
                "start_time": s,
                "end_time": s + DAY,
                "results": self._results(datetime.fromtimestamp(s, UTC).date(), project, costs),
            }
            for s in starts
        ]
        more = (page + 1) * size < len(range(start, end, DAY))
        return json_reply(
            200,
            {
                "object": "page",
                "data": data,
                "has_more": more,
                "next_page": f"page_{page + 1}" if more else None,
            },
        )

    def handler(self) -> Any:
        return handler(self.answer)
