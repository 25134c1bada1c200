"""Run a few blocking calls at once on plain threads (cheaper to import than an executor)."""

from __future__ import annotations

import threading

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import Generic, TypeVar

    T = TypeVar("T")

    class Outcome(Generic[T]):
        value: T | None
        error: BaseException | None

        def __init__(self, value: T | None = None, error: BaseException | None = None) -> None: ...

else:  # the same class without typing.Generic: the request path imports no typing

    class Outcome:
        __slots__ = ("error", "value")

        def __init__(self, value=None, error=None):
            self.value = value
            self.error = error


def run_all(calls: Sequence[Callable[[], T]]) -> list[Outcome[T]]:
    """Call each function on its own thread; results in the same order, errors captured."""
    outcomes: list[Outcome[T]] = [Outcome() for _ in calls]

    def runner(i: int, call: Callable[[], T]) -> None:
        try:
            outcomes[i].value = call()
        except Exception as exc:  # captured and reported by the caller
            outcomes[i].error = exc

    if len(calls) == 1:
        runner(0, calls[0])
        return outcomes
    threads = [
        threading.Thread(target=runner, args=(i, c), daemon=True) for i, c in enumerate(calls)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def call_within(call: Callable[[], T], seconds: float | None) -> Outcome[T] | None:
    """`call()` on a daemon thread, waited for at most `seconds` (None: for as long as it
    takes); None when it has not returned by then. The call is left to finish on its own:
    its own timeouts end it, and a command that gives up on it exits soon after."""
    outcome: Outcome[T] = Outcome()
    done = threading.Event()

    def runner() -> None:
        try:
            outcome.value = call()
        except Exception as exc:  # captured and reported by the caller
            outcome.error = exc
        finally:
            done.set()

    threading.Thread(target=runner, daemon=True, name="codexbar-within").start()
    return outcome if done.wait(seconds) else None
