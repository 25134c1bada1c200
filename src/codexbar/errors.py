"""Errors that end a command, each carrying our exit code and CodexBar's error kind.

`kind` is our own, finer reason (auth, network, parse, provider, usage, config): it stays in
our exact JSON block and in the cache. `codexbar_kind` is the coarser one CodexBar's payload
carries (`args`, `config`, `provider`, `runtime`). `codexbar_message`, when a provider sets
it, is the message CodexBar would print for the same failure (its JSON `error.message`);
`one_line()` is ours, with what to do next, for people.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILURE = 1  # provider or API failure: rejected or missing key, server errors after retries
EXIT_PARSE = 3  # a response that could not be parsed
EXIT_NETWORK = 4  # timeout or network unreachable
EXIT_USAGE = 64  # bad flag, unknown provider, bad URL, bad stdin, corrupt config

# CodexBar's error kinds (CLIErrorKind): ours map onto them, nothing else goes into its payload.
CODEXBAR_KINDS = ("args", "config", "provider", "runtime")
_TO_CODEXBAR_KIND = {"usage": "args", "args": "args", "config": "config", "runtime": "runtime"}


def codexbar_kind(kind: str) -> str:
    """CodexBar's kind for one of ours: argument and config errors keep theirs, an unexpected
    failure is `runtime`, everything about fetching (auth, network, parse...) is `provider`."""
    return _TO_CODEXBAR_KIND.get(kind, "provider")


class CodexbarError(Exception):
    """An error with a one-line message meant for the user."""

    exit_code = EXIT_FAILURE
    kind = "provider"
    # What CodexBar's own JSON says for this failure, when a provider knows it.
    codexbar_message: str | None = None

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def one_line(self) -> str:
        """The message, then what to do next, as one sentence-punctuated line."""
        if not self.hint:
            return self.message
        stop = "" if self.message.endswith((".", "!", "?", ":")) else "."
        return f"{self.message}{stop} {self.hint}"

    @property
    def codexbar_kind(self) -> str:
        return codexbar_kind(self.kind)

    def payload_message(self) -> str:
        """The `error.message` of the JSON payload: CodexBar's words when known, else ours."""
        return self.codexbar_message or self.one_line()


class UsageError(CodexbarError):
    exit_code = EXIT_USAGE
    kind = "usage"


class ConfigError(UsageError):
    kind = "config"


class ProviderError(CodexbarError):
    """The provider answered, but not with figures (rejected key, server error...)."""

    exit_code = EXIT_FAILURE
    kind = "provider"

    def __init__(self, message: str, *, status: int | None = None, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.status = status


class AuthError(ProviderError):
    kind = "auth"


class ParseError(CodexbarError):
    exit_code = EXIT_PARSE
    kind = "parse"


class NetworkError(CodexbarError):
    exit_code = EXIT_NETWORK
    kind = "network"

    def __init__(self, message: str, *, timed_out: bool = False, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.timed_out = timed_out


class SelectionError(UsageError):
    """A flag or setting that picks nothing this provider can fetch: an unknown account
    label or index, no labeled accounts, a source the provider does not support. CodexBar
    reports these as a payload of that provider (not a CLI error), so `provider` says whose;
    `source` is the payload's `source` and `codexbar_kind` CodexBar's kind for it."""

    def __init__(
        self,
        message: str,
        *,
        provider: str,
        codexbar_message: str,
        source: str = "auto",
        codexbar_kind: str = "provider",
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.provider = provider
        self.codexbar_message = codexbar_message
        self.source = source
        self._codexbar_kind = codexbar_kind

    @property
    def codexbar_kind(self) -> str:
        return self._codexbar_kind
