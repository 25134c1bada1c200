"""Errors that end a command, each carrying CodexBar's exit code."""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILURE = 1  # provider or API failure: rejected or missing key, server errors after retries
EXIT_PARSE = 3  # a response that could not be parsed
EXIT_NETWORK = 4  # timeout or network unreachable
EXIT_USAGE = 64  # bad flag, unknown provider, bad URL, bad stdin, corrupt config


class CodexbarError(Exception):
    """An error with a one-line message meant for the user."""

    exit_code = EXIT_FAILURE
    kind = "provider"

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
