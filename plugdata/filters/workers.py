"""Language identifiers in processes of their own.

lingua holds the interpreter while it loads its models (a second or two) and fastText while it
predicts, so on a thread they stall the caller's other threads; in a process of their own they
run beside them. A worker is a fresh interpreter (``python -m plugdata.filters.worker_main``), not a
``multiprocessing`` child: those run the caller's main script again unless it is guarded by
``if __name__ == "__main__"``, and a script that translates before it filters would translate
twice. The worker reads pickled batches of texts on its stdin and answers each on its stdout,
one batch at a time; it ends when its stdin closes. A thread of the caller's reads the answers
as they come, so the caller may hand over several batches before it waits for the first
answer (the pipes never fill up).

Kept light (nothing from the rest of the filters) so a worker starts in a few hundredths of a
second.
"""

from __future__ import annotations

import os
import pickle
import queue
import subprocess
import sys
import threading
from collections.abc import Sequence
from typing import Any

Answer = list[dict[str, float]]  # per text, probability (or confidence) per language code


class WorkerGone(RuntimeError):
    """The worker process ended or could not be reached."""


class Worker:
    """One identifier in a process of its own: ``kind`` is ``lingua`` (``arg``: the ISO
    639-1 codes to choose among; the models load as soon as it starts) or ``fasttext``
    (``arg``: the characters read per text, or None)."""

    def __init__(self, kind: str, arg: Any) -> None:
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "plugdata.filters.worker_main"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
        )
        self._lock = threading.Lock()
        self._answers: queue.SimpleQueue[tuple[bool, Any] | None] = queue.SimpleQueue()
        self._reader = threading.Thread(target=self._read, name="lid-worker-answers", daemon=True)
        self._reader.start()
        self._send((kind, arg))

    def send(self, texts: Sequence[str]) -> None:
        """Hand over a batch (answered by :meth:`receive`, in order)."""
        self._send(list(texts))

    def receive(self) -> Answer:
        """The answer to the oldest batch not yet received."""
        message = self._answers.get()
        if message is None:
            self._answers.put(None)  # (and every later call fails the same way)
            raise WorkerGone("the language identifier's worker process ended")
        ok, found = message
        if not ok:
            raise WorkerGone(f"the language identifier's worker failed: {found}")
        return found

    def _read(self) -> None:
        """The answers, read as they come (on a thread of their own); None once the worker
        has ended."""
        while True:
            try:
                message = pickle.load(self._proc.stdout)
            except (EOFError, OSError, ValueError, pickle.UnpicklingError):
                self._answers.put(None)
                return
            self._answers.put(message)

    def ask(self, texts: Sequence[str]) -> Answer:
        """One batch's answer (one caller at a time)."""
        with self._lock:
            self.send(texts)
            return self.receive()

    def close(self) -> None:
        """End the worker: it stops when its stdin closes, or is stopped if it is still loading
        (nothing it holds needs saving)."""
        try:
            self._proc.stdin.close()
            self._proc.wait(timeout=1)
        except (OSError, subprocess.TimeoutExpired):
            self._proc.kill()
            self._proc.wait()
        self._reader.join(timeout=1)
        self._proc.stdout.close()

    def _send(self, message: Any) -> None:
        try:
            pickle.dump(message, self._proc.stdin, protocol=pickle.HIGHEST_PROTOCOL)
            self._proc.stdin.flush()
        except OSError as exc:
            raise WorkerGone("the language identifier's worker process ended") from exc


def ask_all(workers: Sequence[Worker], batches: Sequence[Sequence[str]]) -> Answer:
    """One batch to each worker at once, the answers joined in order."""
    with_lock = [w._lock for w in workers]
    for lock in with_lock:
        lock.acquire()
    try:
        for worker, batch in zip(workers, batches, strict=True):
            worker.send(batch)
        return [top for worker in workers for top in worker.receive()]
    finally:
        for lock in with_lock:
            lock.release()
