"""OpenAI: the organization's cost report (GET /organization/costs, daily buckets grouped by
line item) and its completions usage (GET /organization/usage/completions, grouped by model),
every page of each, for the 30 completed UTC days and today, optionally for one project.

The two reports are fetched at once; their pages one after another (each names the next).
The cost report is the figures: when it fails, the fetch fails (a key the Admin API refuses
says which key it needs). The usage report only adds tokens and requests: when it fails, the
card says so and shows the costs.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from urllib.parse import quote

from codexbar.accounts import Account
from codexbar.clock import SYSTEM, Clock
from codexbar.errors import AuthError, CodexbarError, NetworkError, ParseError
from codexbar.http.client import HttpClient, HttpStatusError
from codexbar.money import ZERO
from codexbar.parallel import run_all
from codexbar.providers.common import (
    Dropped,
    object_body,
    text,
    unexpected,
    whole,
    with_hint,
)
from codexbar.providers.openai.accounts import (
    ADMIN_ENV,
    ID,
    KEYS_PAGE,
    NAME,
    URL_ENV,
    missing_key_error,
)
from codexbar.providers.openai.figures import DayBucket, LineItem, ModelUsage, OpenAIFigures
from codexbar.snapshot import ActivityRow, Note, Snapshot, SpendWindows, impossible_text

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

DAYS_FETCHED = 31  # the 30 completed UTC days and today: one request range (at most 31)
MAX_PAGES = 100  # per report, as CodexBar: a server that pages forever is not a report
COSTS = "/organization/costs"
COMPLETIONS = "/organization/usage/completions"
LINE_ITEM_FALLBACK = "API"  # CodexBar's name for a cost without a line item
MODEL_FALLBACK = "Responses and Chat Completions"
DAY_SECONDS = 86400


def key_kind(key: str) -> str:
    """What kind of OpenAI key this is, from its published prefix."""
    if key.startswith("sk-admin-"):
        return "admin"
    if key.startswith("sk-proj-"):
        return "project"
    if key.startswith("sk-svcacct-"):
        return "service account"
    return "user"


def _epoch(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())


def report_url(
    base_url: str, path: str, first: date, days: int, group_by: str, project: str | None
) -> str:
    """One report request, its query as CodexBar writes it (start, end, 1-day buckets, a
    limit of the range's days, the grouping, the project)."""
    query = [
        f"start_time={_epoch(first)}",
        f"end_time={_epoch(first) + days * DAY_SECONDS}",
        "bucket_width=1d",
        f"limit={days}",
        f"group_by={quote(group_by, safe='')}",
    ]
    if project:
        query.append(f"project_ids={quote(project, safe='')}")
    return f"{base_url}{path}?{'&'.join(query)}"


def pages(client: HttpClient, account: Account, url: str, what: str) -> list[Any]:
    """Every bucket of a report, following `next_page` until `has_more` is false; a cursor
    that is missing or comes back again is a broken answer, not a reason to loop."""
    buckets: list[Any] = []
    seen: set[str] = set()
    cursor: str | None = None
    for _ in range(MAX_PAGES):
        page_url = url if cursor is None else f"{url}&page={quote(cursor, safe='')}"
        body = object_body(client.get_json(page_url, token=account.api_key or "").body, what)
        data, more = body.get("data"), body.get("has_more")
        if not isinstance(data, list) or not isinstance(more, bool):
            raise ParseError(f"invalid response (a page of the {what} without data and has_more)")
        buckets.extend(data)
        if not more:
            return buckets
        following = body.get("next_page")
        if not isinstance(following, str) or not following.strip():
            raise ParseError(f"invalid response (the {what} has more pages but no next_page)")
        cursor = following.strip()
        if cursor in seen:
            raise ParseError(f"invalid response (the {what} repeated a page cursor)")
        seen.add(cursor)
    raise ParseError(f"invalid response (the {what} ran past {MAX_PAGES} pages)")


class _Day:
    """One UTC day being summed up from both reports."""

    __slots__ = ("costs", "end", "models", "start")

    def __init__(self, start: int, end: int) -> None:
        self.start = start
        self.end = end
        self.costs: dict[str, Decimal] = {}
        self.models: dict[str, list[int]] = {}


def _bucket(raw: object, days: dict[int, _Day], what: str) -> tuple[_Day, list[Any]]:
    if not isinstance(raw, dict):
        raise ParseError(f"invalid response (a bucket of the {what} is not an object)")
    start, end, results = raw.get("start_time"), raw.get("end_time"), raw.get("results")
    if (
        whole(start) is None
        or whole(end) is None
        or not isinstance(results, list)
        or isinstance(start, float)
        or isinstance(end, float)
    ):
        raise ParseError(f"invalid response (a bucket of the {what} without its times)")
    assert isinstance(start, int) and isinstance(end, int)
    day = days.get(start)
    if day is None:
        day = days[start] = _Day(start, end)
    return day, results


def add_costs(buckets: list[Any], days: dict[int, _Day], dropped: Dropped) -> None:
    for raw in buckets:
        day, results = _bucket(raw, days, "cost report")
        for item in results:
            if not isinstance(item, dict):
                raise ParseError("invalid response (a cost of the report is not an object)")
            name = text(item.get("line_item")) or LINE_ITEM_FALLBACK
            amount = item.get("amount")
            if amount is None:
                continue
            if not isinstance(amount, dict):
                raise ParseError("invalid response (a cost amount is not an object)")
            when = f"{_day_of(day.start)} "
            currency = amount.get("currency")
            if isinstance(currency, str) and currency.strip().lower() not in ("", "usd"):
                dropped.add(f"{when}cost in {text(currency) or '?'}")
                continue
            value = dropped.money(amount, "value", where=when)
            if value is not None:
                day.costs[name] = day.costs.get(name, ZERO) + value


def add_completions(buckets: list[Any], days: dict[int, _Day]) -> None:
    for raw in buckets:
        day, results = _bucket(raw, days, "usage report")
        for item in results:
            if not isinstance(item, dict):
                raise ParseError("invalid response (a usage result is not an object)")

            def count(name: str, item: dict[str, Any] = item) -> int:
                return whole(item.get(name)) or 0

            audio_in, audio_out = count("input_audio_tokens"), count("output_audio_tokens")
            inputs = count("input_tokens") + audio_in
            outputs = count("output_tokens") + audio_out
            figures = (count("num_model_requests"), inputs, count("input_cached_tokens"), outputs)
            model = text(item.get("model")) or MODEL_FALLBACK
            totals = day.models.setdefault(model, [0, 0, 0, 0, 0])
            for i, value in enumerate((*figures, inputs + outputs)):
                totals[i] += value


def _day_of(epoch: int) -> str:
    try:
        return datetime.fromtimestamp(epoch, UTC).date().isoformat()
    except (OverflowError, OSError, ValueError):
        raise ParseError("invalid response (a bucket time out of range)") from None


def buckets(days: dict[int, _Day], first: date, today: date) -> tuple[DayBucket, ...]:
    """The days of the reports within first..today, oldest first, in CodexBar's order of
    line items (largest cost first) and models (most tokens first)."""
    found: list[DayBucket] = []
    for start in sorted(days):
        day = days[start]
        name = _day_of(start)
        if not first.isoformat() <= name <= today.isoformat():
            continue
        items = sorted(
            (LineItem(n, c) for n, c in day.costs.items()), key=lambda i: (-i.cost, i.name)
        )
        models = sorted(
            (ModelUsage(n, *v) for n, v in day.models.items()),
            key=lambda m: (-m.total_tokens, m.name),
        )
        found.append(
            DayBucket(
                day=name,
                start=datetime.fromtimestamp(start, UTC),
                end=datetime.fromtimestamp(max(day.end, start), UTC),
                cost=sum((i.cost for i in items), ZERO),
                requests=sum(m.requests for m in models),
                input_tokens=sum(m.input_tokens for m in models),
                cached_input_tokens=sum(m.cached_input_tokens for m in models),
                output_tokens=sum(m.output_tokens for m in models),
                total_tokens=sum(m.total_tokens for m in models),
                line_items=tuple(items),
                models=tuple(models),
            )
        )
    return tuple(found)


def rejected(status: int, key: str, project: str | None) -> AuthError:
    """The Admin API refused the key: say which key it takes, in the words for this one."""
    kind = key_kind(key)
    if kind in ("project", "service account", "user"):
        prefix = {"project": "sk-proj-…", "service account": "sk-svcacct-…", "user": "sk-…"}[kind]
        message = (
            f"{NAME} refused the key (HTTP {status}): a {kind} key ({prefix}) cannot read the "
            "organization's costs; they need an Admin API key (sk-admin-…)"
        )
    elif project and status == 403:
        message = (
            f"{NAME} refused the Admin API key for project {project} (HTTP 403): check "
            "OPENAI_PROJECT_ID (config: workspaceID)"
        )
    else:
        message = f"{NAME} rejected the Admin API key (HTTP {status})"
    return AuthError(
        message,
        status=status,
        hint=f"Create an Admin API key at {KEYS_PAGE}, then: export {ADMIN_ENV}=… or "
        f"printf '%s' \"$KEY\" | codexbar config set-api-key --provider {ID} --stdin",
    )


def describe(exc: BaseException) -> str:
    if isinstance(exc, HttpStatusError):
        return f"HTTP {exc.status}"
    if isinstance(exc, NetworkError):
        return exc.message
    if isinstance(exc, ParseError):
        return "invalid response"
    if isinstance(exc, CodexbarError):
        return exc.message
    return "unexpected error"


def fetch(account: Account, client: HttpClient, clock: Clock = SYSTEM) -> Snapshot:
    if not account.api_key:
        raise missing_key_error()
    project = account.options.get("project")
    today = clock.now().astimezone(UTC).date()
    first = today - timedelta(days=DAYS_FETCHED - 1)

    def report(path: str, group_by: str, what: str) -> Any:
        url = report_url(account.base_url, path, first, DAYS_FETCHED, group_by, project)
        return pages(client, account, url, what)

    costs, usage = run_all(
        [
            lambda: report(COSTS, "line_item", "cost report"),
            lambda: report(COMPLETIONS, "model", "usage report"),
        ]
    )
    now = clock.now()  # when the answers are in
    if costs.error is not None:
        err = costs.error
        if isinstance(err, HttpStatusError) and err.status in (401, 403):
            raise rejected(err.status, account.api_key, project)
        if isinstance(err, CodexbarError):
            raise with_hint(err, name=NAME, url=account.base_url, url_variable=URL_ENV)
        raise unexpected(err if isinstance(err, Exception) else Exception(), NAME)
    try:
        return build(account, now, today, first, costs.value, usage.value, usage.error, project)
    except CodexbarError:
        raise
    except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
        raise unexpected(exc, NAME) from None


def build(
    account: Account,
    now: datetime,
    today: date,
    first: date,
    cost_buckets: Any,
    usage_buckets: Any,
    usage_error: BaseException | None,
    project: str | None,
) -> Snapshot:
    notes: list[Note] = []
    dropped = Dropped()
    days: dict[int, _Day] = {}
    add_costs(cost_buckets or [], days, dropped)
    models_error = None
    if usage_error is None:
        try:
            add_completions(usage_buckets or [], days)
        except ParseError as exc:
            usage_error = exc
    if usage_error is not None:
        if isinstance(usage_error, HttpStatusError) and usage_error.status in (401, 403):
            models_error = f"HTTP {usage_error.status}: the key may not read usage"
        else:
            models_error = describe(usage_error)
        for day in days.values():
            day.models.clear()
        notes.append(Note("warning", f"Models and tokens: unavailable right now · {models_error}"))
    report = buckets(days, first, today)
    if dropped.items:
        notes.append(Note("warning", impossible_text(NAME, dropped.items)))
    by_day = {b.day: b for b in report}
    monday = today - timedelta(days=today.weekday())
    month = today.replace(day=1)

    def since(start: date) -> Decimal:
        return sum((b.cost for b in report if b.day >= start.isoformat()), ZERO)

    completed = [b for b in report if b.day < today.isoformat()]
    activity = tuple(
        ActivityRow(date=b.day, model=item.name, usage=item.cost)
        for b in completed
        for item in b.line_items
    )
    today_bucket = by_day.get(today.isoformat())
    usage = SpendWindows(
        daily=today_bucket.cost if today_bucket is not None else ZERO,
        weekly=since(monday),
        monthly=since(month),
    )
    extra = OpenAIFigures(
        project=project,
        key_kind=key_kind(account.api_key or ""),
        days=report,
        models_error=models_error,
        updated_at=now,
        today=today.isoformat(),
    )
    return Snapshot(
        provider=ID,
        fetched_at=now,
        account=account.label,
        account_id=account.history_id,
        usage=usage,
        last30_spend=sum((b.cost for b in completed), ZERO),
        activity=activity,
        activity_group="line item",
        notes=tuple(notes),
        impossible=tuple(dropped.items),
        extra=extra,
    )
