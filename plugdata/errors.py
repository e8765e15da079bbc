"""The one exception type users see: a clear, single-line reason with no traceback."""

from __future__ import annotations

import signal


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message (the rest is often a request dump or a
    traceback of its own), or its type's name when the message is empty."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class PlugdataError(Exception):
    """A problem the user can fix (bad input, bad option, unreachable server).

    The command line prints the message alone on stderr and exits non-zero.
    """


class InputError(PlugdataError):
    """A source file or dataset is malformed; the message names file, line and field."""


class ConfigError(InputError):
    """A config value is wrong; ``field`` names it (the CLI shows the matching flag)."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"{name}: {reason}")
        self.field = name
        self.reason = reason


class ServerError(PlugdataError):
    """The model server cannot be used at all (unreachable, rejects the key, unknown model)."""


class Interrupted(PlugdataError):
    """Ctrl-C or SIGTERM stopped a command; what completed is kept and the same command
    resumes. ``exit_code`` is 130 for Ctrl-C (SIGINT) and 143 for SIGTERM."""

    def __init__(self, message: str, exit_code: int = 130) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class Terminated(KeyboardInterrupt):
    """SIGTERM (``kill``, ``timeout``, Slurm, Kubernetes) where Ctrl-C's own handling is not
    available: the program unwinds as it does for Ctrl-C, then exits 143 with one line."""


# Signals this process received (recorded by the command line's handlers): SIGTERM is handled
# as Ctrl-C is, and this tells the two apart afterwards.
SIGNALS: set[int] = set()


def stopped_by(exc: BaseException) -> tuple[str, int]:
    """How a signal stopped the program, in words, and the exit code that says so."""
    sigterm = signal.SIGTERM in SIGNALS and not isinstance(exc, Interrupted)
    if isinstance(exc, Terminated) or sigterm:
        return "terminated (SIGTERM)", 143
    if isinstance(exc, Interrupted):
        return "interrupted", exc.exit_code
    return "interrupted", 130


def interrupted(exc: BaseException, kept: str) -> Interrupted:
    """The one line for a signal that stopped a resumable command: what is kept, how to go on."""
    words, code = stopped_by(exc)
    return Interrupted(f"{words}; {kept}; run the same command again to resume", code)
