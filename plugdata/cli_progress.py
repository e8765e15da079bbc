"""Progress of a build on the terminal: a live bar per language on a TTY, plain lines
(every ``interval`` seconds) when stderr is a file or a pipe."""

from __future__ import annotations

import threading
import time
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn


class BuildProgress:
    """``on_start`` and ``on_pair`` callbacks for :func:`plugdata.build`."""

    def __init__(self, console: Console, pivot: str, interval: float = 30.0) -> None:
        self.console, self.pivot, self.interval = console, pivot, interval
        self.live = console.is_terminal
        self.counts: dict[str, dict[str, Any]] = {}
        self._started = self._last = time.monotonic()
        self._bar: Progress | None = None
        self._tasks: dict[str, Any] = {}
        self._lock = threading.Lock()  # pairs arrive on the event loop, rejections on the sink

    def on_start(self, totals: dict[str, int | None]) -> None:
        self._started = self._last = time.monotonic()
        for lang, total in totals.items():
            self.counts[lang] = {"done": 0, "total": total, "rejected": 0, "tokens": 0, "cost": 0.0}
        if not self.live:
            return
        self._bar = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]}"),
            TextColumn("{task.fields[rejected]} rejected"),
            TextColumn("{task.fields[tokens]:,} tok"),
            TextColumn("${task.fields[cost]:.4f}"),
            TimeRemainingColumn(),
            console=self.console,
            transient=True,
        )
        self._bar.start()
        for lang, total in totals.items():
            self._tasks[lang] = self._bar.add_task(
                f"{self.pivot}→{lang}", total=total, rejected=0, tokens=0, cost=0.0, rate=""
            )

    def on_pair(self, pair: dict[str, Any]) -> None:
        c = self.counts[pair["target_lang"]]
        with self._lock:
            c["done"] += 1
            c["rejected"] += not pair["kept"]
            c["tokens"] += pair["prompt_tokens"] + pair["completion_tokens"]
            c["cost"] += pair["cost_usd"]
        if self._bar is not None:
            task = self._tasks[pair["target_lang"]]
            speed = self._bar.tasks[task].speed
            self._bar.update(
                task,
                advance=1,
                rejected=c["rejected"],
                tokens=c["tokens"],
                cost=c["cost"],
                rate=f"{speed:.1f}/s" if speed else "",
            )
        elif time.monotonic() - self._last >= self.interval:
            self.log()

    def on_rejected(self, lang: str, count: int) -> None:
        """Pairs the filters rejected (after they were counted as translated)."""
        c = self.counts[lang]
        with self._lock:
            c["rejected"] += count
        if self._bar is not None:
            self._bar.update(self._tasks[lang], rejected=c["rejected"])

    def on_status(self, line: str) -> None:
        """A change in the Batch API's batches: one line above the bars."""
        self.console.print(line, highlight=False, soft_wrap=True)

    def log(self) -> None:
        """One plain line per language: done/total, rate, rejections, tokens and cost."""
        self._last = now = time.monotonic()
        elapsed = max(now - self._started, 1e-9)
        for lang, c in self.counts.items():
            total = f"/{c['total']:,}" if c["total"] is not None else ""
            self.console.print(
                f"[{elapsed:7.0f}s] {self.pivot}→{lang}: {c['done']:,}{total} pairs, "
                f"{c['done'] / elapsed:.1f}/s, {c['rejected']:,} rejected, {c['tokens']:,} tokens, "
                f"${c['cost']:.4f}",
                highlight=False,
                soft_wrap=True,
            )

    def stop(self, finished: bool = False) -> None:
        """Close the bar; a finished run without one gets a last plain line."""
        if self._bar is not None:
            self._bar.stop()
        elif finished and self.counts:
            self.log()
