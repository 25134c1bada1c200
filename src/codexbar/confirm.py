"""Asking before a change is made (`keys set-limit`, `disable`, `enable`, `restore`, and any
front end that enforces a rule): yes on `--yes`; a question on a terminal; and a refusal when
nobody can answer (stdin is not a terminal and `--yes` was not given), so a script never
changes a key by accident and never hangs on a question."""

from __future__ import annotations

import sys

from codexbar.errors import UsageError


def ask(question: str, *, yes: bool) -> bool:
    """True to go ahead. The question goes to stderr (stdout may be JSON), the answer is one
    line of stdin: y or yes, any case; anything else (or end of input) is no."""
    if yes:
        return True
    stdin = sys.stdin
    if stdin is None or not stdin.isatty():
        raise UsageError(
            "not changed: stdin is not a terminal, so the change cannot be confirmed",
            hint="Pass --yes to make it (or --dry-run to see the request).",
        )
    from codexbar.secrets import redact
    from codexbar.textsafe import clean, fit

    sys.stderr.write(fit(redact(f"{clean(question)} [y/N] "), sys.stderr))
    sys.stderr.flush()
    answer = stdin.readline()
    return answer.strip().lower() in ("y", "yes")
