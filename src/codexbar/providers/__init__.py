"""The provider registry: one line per provider. Everything else about a provider lives in its
own package under `providers/`, imported only when that provider is used (`load`).

The registry lines are plain data so the cheap paths (`--help`, cached status-bar answers,
redaction) can name providers and scrub their keys without importing any provider code.
"""

from __future__ import annotations

from codexbar.errors import UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from codexbar.providers.base import Provider


class ProviderInfo:
    """A registry line. A plain class: this sits on the cached-answer path."""

    __slots__ = (
        "accent",
        "aliases",
        "id",
        "key_env",
        "key_pattern",
        "name",
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
        sources: tuple[str, ...] = ("auto", "api"),
    ) -> None:
        self.id = id  # CodexBar's provider id, used in the config file and the JSON payload
        self.name = name
        self.aliases = aliases
        self.key_env = key_env  # environment variables that may hold its keys
        self.key_pattern = key_pattern  # a regex for the provider's keys, to scrub from text
        # CodexBar's branding colour (#RRGGBB) and its name for the primary rate window: what
        # a dashboard-v1 row shows (`display.accentColor`, `windows[].label`).
        self.accent = accent
        self.window_label = window_label
        # CodexBar's source modes (`--source`, an entry's `source`) this provider fetches with.
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
