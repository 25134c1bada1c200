"""The provider registry: one line per provider. Everything else about a provider lives in its
own package under `providers/`, imported only when that provider is used (`load`).

The registry lines are plain data so the cheap paths (`--help`, cached status-bar answers,
redaction) can name providers and scrub their keys without importing any provider code.
"""

from __future__ import annotations

from codexbar.errors import UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from codexbar.providers.base import Provider
    from codexbar.snapshot import Snapshot

WINDOW_KEYS = ("primary", "secondary", "tertiary")  # CodexBar's rate windows, in its order


class ProviderInfo:
    """A registry line. A plain class: this sits on the cached-answer path."""

    __slots__ = (
        "accent",
        "aliases",
        "id",
        "key_env",
        "key_pattern",
        "name",
        "secondary_label",
        "sources",
        "window_label",
    )

    def __init__(
        self,
        id: str,
        name: str,
        *,
        aliases: tuple[str, ...] = (),
        key_env: tuple[str, ...] = (),
        key_pattern: str,
        accent: str = "#6E6E6E",
        window_label: str = "Session",
        secondary_label: str = "Weekly",
        sources: tuple[str, ...] = ("auto", "api"),
    ) -> None:
        self.id = id  # CodexBar's provider id, used in the config file and the JSON payload
        self.name = name
        self.aliases = aliases
        self.key_env = key_env  # environment variables that may hold its keys
        self.key_pattern = key_pattern  # a regex for the provider's keys, to scrub from text
        # CodexBar's branding colour (#RRGGBB) and its names for the primary and secondary
        # rate windows (sessionLabel, weeklyLabel): what a dashboard-v1 row shows
        # (`display.accentColor`, `windows[].label`).
        self.accent = accent
        self.window_label = window_label
        self.secondary_label = secondary_label
        # CodexBar's source modes for this provider (`--source`, an entry's `source`); codexbar
        # fetches every one of them through the API, `web` excepted.
        self.sources = sources

    @property
    def module(self) -> str:
        return f"codexbar.providers.{self.id}"


# --- the registry: add a provider here and as a package providers/<id>/ ------------------
PROVIDERS: dict[str, ProviderInfo] = {
    info.id: info
    for info in (
        ProviderInfo(
            "openrouter",
            "OpenRouter",
            aliases=("or",),
            key_env=("OPENROUTER_API_KEY", "OPENROUTER_MANAGEMENT_API_KEY"),
            key_pattern=r"sk-or-[A-Za-z0-9]+-[A-Za-z0-9_\-]{8,}",
            accent="#6467F2",  # CodexBar's ProviderColor(100, 103, 242)
            window_label="Credits",  # CodexBar's sessionLabel for it
            secondary_label="Usage",  # its weeklyLabel
        ),
        ProviderInfo(
            "openai",
            "OpenAI",
            aliases=("openai-api",),
            key_env=("OPENAI_ADMIN_KEY", "OPENAI_API_KEY"),
            key_pattern=r"(?<![A-Za-z0-9_\-])sk-(?:admin|proj|svcacct)-[A-Za-z0-9_\-]{16,}",
            accent="#0F826E",  # CodexBar's ProviderColor(0.06, 0.51, 0.43)
            window_label="Spend",
            secondary_label="Requests",
        ),
        ProviderInfo(
            "deepseek",
            "DeepSeek",
            aliases=("deep-seek", "ds"),
            key_env=("DEEPSEEK_API_KEY", "DEEPSEEK_KEY"),
            key_pattern=r"(?<![A-Za-z0-9_\-])sk-[0-9a-f]{32}(?![0-9a-f])",
            accent="#527DF0",  # CodexBar's ProviderColor(0.32, 0.49, 0.94)
            window_label="Balance",
            secondary_label="Balance",
            # CodexBar's web source is DeepSeek's platform session from Chrome: not here.
            sources=("auto", "api", "web"),
        ),
        ProviderInfo(
            "litellm",
            "LiteLLM",
            aliases=("litellm-proxy",),
            key_env=("LITELLM_API_KEY",),
            # A virtual key: `sk-` and a token of the gateway's choosing (legacy OpenAI user
            # keys have this shape too); not the tail of a word ("risk-assessment-…").
            key_pattern=r"(?<![A-Za-z0-9_\-])sk-[A-Za-z0-9_\-]{20,}",
            accent="#4C89F0",  # CodexBar's ProviderColor(76, 137, 240)
            window_label="Personal budget",
            secondary_label="Team budget",
        ),
    )
}
DEFAULT_PROVIDER = next(iter(PROVIDERS))  # shown when nothing is configured or enabled


def load(provider_id: str) -> Provider:
    """The provider's implementation (imports its package)."""
    import importlib

    module = importlib.import_module(PROVIDERS[provider_id].module)
    provider: Provider = module.PROVIDER
    return provider


def known_names() -> str:
    return ", ".join(
        f"{p.id} ({', '.join(p.aliases)})" if p.aliases else p.id for p in PROVIDERS.values()
    )


def find(name: str) -> ProviderInfo | None:
    """A provider by id or alias, any case; None when there is none of that name."""
    wanted = name.strip().lower()
    return next((p for p in PROVIDERS.values() if wanted == p.id or wanted in p.aliases), None)


def resolve(name: str) -> ProviderInfo | None:
    """A provider by id or alias, any case; None for `all`."""
    wanted = name.strip().lower()
    if wanted == "all":
        return None
    for info in PROVIDERS.values():
        if wanted == info.id or wanted in info.aliases:
            return info
    raise UsageError(f"unknown provider {name!r}; known: {known_names()}, all")


def display_name(provider_id: str) -> str:
    info = PROVIDERS.get(provider_id)
    return info.name if info else provider_id


def names_provider(provider_id: str, message: str) -> bool:
    """Whether a message names its provider already (then nothing puts the name before it):
    the name as a word, as written (`OpenRouter`, not `OPENROUTER_API_URL` or openrouter.ai)."""
    import re

    return re.search(rf"(?<!\w){re.escape(display_name(provider_id))}(?!\w)", message) is not None


def attributed(provider_id: str, account: str | None, message: str, *, card: bool = True) -> str:
    """`OpenRouter · Work: HTTP 500` (`OpenRouter (Work): …` with card=False): a message
    said for one account, naming the provider once. A provider's own messages often name it
    already ("OpenRouter rejected the API key"): then only the account goes before it, never
    "OpenRouter: OpenRouter rejected…"."""
    if names_provider(provider_id, message):
        return f"{account}: {message}" if account else message
    name = display_name(provider_id)
    if account:
        name += f" · {account}" if card else f" ({account})"
    return f"{name}: {message}"


def codexbar_windows(snapshot: Snapshot, own: dict[str, Any] | None = None) -> dict[str, Any]:
    """CodexBar's `primary` / `secondary` / `tertiary` for a snapshot with figures: each
    window the provider's own CodexBar mapping sets (`own`, its `codexbar_usage`), else the
    neutral meter as `primary`. The one answer for the payload and for guard's windows."""
    if own is None:
        own = load(snapshot.provider).codexbar_usage(snapshot)
    meter = snapshot.primary
    neutral = {
        "primary": None if meter is None else {"usedPercent": meter.used_percent},
        "secondary": None,
        "tertiary": None,
    }
    return {key: own[key] if key in own else neutral[key] for key in WINDOW_KEYS}
