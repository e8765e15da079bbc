"""The language identifier's worker process (started by :class:`~plugdata.filters.workers.Worker`).

It reads a header ``(kind, arg)`` on stdin, then pickled batches of texts, and answers each on
stdout until stdin closes. Apart from this entry point, the filters never import it.
"""

from __future__ import annotations

import os
import pickle
import sys
from collections.abc import Callable
from typing import Any

from plugdata.filters.workers import Answer


def _answerer(kind: str, arg: Any) -> Callable[[list[str]], Answer]:
    if kind == "lingua":
        from plugdata.filters.langid import lingua_confidences, lingua_detector

        detector = lingua_detector(arg)
        return lambda texts: lingua_confidences(detector, texts)
    from plugdata.filters.langid import FastTextLID

    model = FastTextLID(arg)
    return model.predict


def main() -> None:
    """The worker: a header ``(kind, arg)``, then batches until stdin closes."""
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # anything printed goes to stderr, never into the answers
    answer = _answerer(*pickle.load(stdin))
    while True:
        try:
            texts = pickle.load(stdin)
        except EOFError:  # done: end now, without freeing the models one by one
            sys.stderr.flush()
            os._exit(0)
        try:
            message = (True, answer(texts))
        except Exception as exc:  # the caller raises it
            message = (False, repr(exc))
        pickle.dump(message, stdout, protocol=pickle.HIGHEST_PROTOCOL)
        stdout.flush()


if __name__ == "__main__":
    main()
