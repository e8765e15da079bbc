"""The one exception type users see: a clear, single-line reason with no traceback."""

from __future__ import annotations


class PlugdataError(Exception):
    """A problem the user can fix (bad input, bad option, unreachable server).

    The command line prints the message alone on stderr and exits non-zero.
    """


class InputError(PlugdataError):
    """A source file or dataset is malformed; the message names file, line and field."""


class ServerError(PlugdataError):
    """The model server cannot be used at all (unreachable, rejects the key, unknown model)."""
