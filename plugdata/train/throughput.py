"""Honest training throughput: tokens/s and MFU over recent steps, after the warm-up.

Dividing all tokens by the time since start counts model loading and kernel compilation as
training time, so early figures understate throughput by orders of magnitude. Here the first
``warmup`` steps of each process (compilation, autotuning, first allocations) are left out,
their cost is reported once, and each logged figure covers at most the last ``window`` steps.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

PEAK_TFLOPS = {
    "H100 PCIe": 756.0,
    "H100": 989.0,
    "H200": 989.0,
    "A100": 312.0,
    "L40S": 362.0,
    "A10": 125.0,
    "4090": 165.0,
}  # dense bf16, per GPU


@dataclass(frozen=True)
class Rate:
    """Throughput between two step ends."""

    steps: int
    seconds: float
    tokens: int

    @property
    def tokens_per_second(self) -> float:
        return self.tokens / self.seconds if self.seconds > 0 else 0.0

    def mfu(self, n_params: int, peak_flops: float) -> float:
        """Model FLOPs utilisation: 6 x params x tokens/s over the peak (attention not counted)."""
        return 6 * n_params * self.tokens_per_second / peak_flops


class ThroughputWindow:
    """Step-end clock readings; rates over the last ``window`` steps after ``warmup`` steps."""

    def __init__(self, warmup: int = 3, window: int = 20) -> None:
        if warmup < 1 or window < 1:
            raise ValueError("warmup and window must be at least one step")
        self.warmup, self.window = warmup, window
        self.started: float | None = None
        self.steps_seen = 0
        self.warmup_seconds: float | None = None
        self._first: tuple[float, int] | None = None  # the end of the warm-up
        self._marks: deque[tuple[float, int]] = deque(maxlen=window + 1)

    def start(self, seconds: float) -> None:
        """Training (in this process) begins at ``seconds``."""
        self.started = seconds

    def step(self, seconds: float, tokens_seen: int) -> None:
        """A step ended at ``seconds`` with ``tokens_seen`` tokens trained so far in total."""
        if self.started is None:
            self.started = seconds
        self.steps_seen += 1
        if self.steps_seen < self.warmup:
            return
        if self.steps_seen == self.warmup:
            self.warmup_seconds = seconds - self.started
            self._first = (seconds, tokens_seen)
        self._marks.append((seconds, tokens_seen))

    def recent(self) -> Rate | None:
        """Throughput over the last ``window`` steps (fewer just after the warm-up), if any."""
        if len(self._marks) < 2:
            return None
        (t0, n0), (t1, n1) = self._marks[0], self._marks[-1]
        return Rate(len(self._marks) - 1, t1 - t0, n1 - n0)

    def overall(self) -> Rate | None:
        """Throughput over every step after the warm-up."""
        if self._first is None or len(self._marks) < 2:
            return None
        (t0, n0), (t1, n1) = self._first, self._marks[-1]
        return Rate(self.steps_seen - self.warmup, t1 - t0, n1 - n0)

    def warmup_cost(self) -> float | None:
        """Seconds the warm-up steps took beyond what as many steady steps take."""
        rate = self.recent()
        if self.warmup_seconds is None or rate is None:
            return None
        return max(0.0, self.warmup_seconds - self.warmup * rate.seconds / rate.steps)


def peak_flops() -> float | None:
    """Peak dense bf16 FLOP/s of the visible GPUs, where the model is known."""
    import torch

    if not torch.cuda.is_available():
        return None
    name = torch.cuda.get_device_name()
    for key, tflops in PEAK_TFLOPS.items():
        if key in name:
            return tflops * 1e12 * torch.cuda.device_count()
    return None


def throughput_callback(
    n_params: int, peak: float | None, warmup: int = 3, window: int = 20
) -> Any:
    """A TrainerCallback adding ``window_*`` throughput keys to every log after the warm-up."""
    import time

    from transformers import TrainerCallback

    class Throughput(TrainerCallback):
        def __init__(self) -> None:
            self.clock = ThroughputWindow(warmup, window)
            self.reported = False

        def on_train_begin(self, targs: Any, state: Any, control: Any, **kw: Any) -> None:
            self.clock.start(time.perf_counter())

        def on_step_end(self, targs: Any, state: Any, control: Any, **kw: Any) -> None:
            self.clock.step(time.perf_counter(), int(state.num_input_tokens_seen or 0))

        def on_log(self, targs: Any, state: Any, control: Any, logs: Any = None, **kw: Any) -> None:
            if logs is None or "loss" not in logs:
                return
            # transformers' own figure divides by the time since start (warm-up included)
            entries = [logs, state.log_history[-1]] if state.log_history else [logs]
            for entry in entries:
                entry.pop("train_tokens_per_second", None)
            rate = self.clock.recent()
            if rate is None or not rate.tokens:
                return
            if not self.reported and state.is_world_process_zero:
                self.reported = True
                print(
                    f"Warm-up: the first {warmup} step(s) took {self.clock.warmup_seconds:.1f} s "
                    f"(compilation, autotuning, first allocations), "
                    f"{self.clock.warmup_cost():.1f} s more than steady steps; window_* figures "
                    f"leave them out and cover the last {window} steps at most.",
                    flush=True,
                )
            for entry in entries:
                entry.update(_figures(rate, n_params, peak))

        def on_train_end(self, targs: Any, state: Any, control: Any, **kw: Any) -> None:
            rate = self.clock.overall()
            if rate is None or not rate.tokens or not state.is_world_process_zero:
                return
            figures = _figures(rate, n_params, peak)
            mfu = f", MFU {figures['window_mfu']:.1%}" if "window_mfu" in figures else ""
            print(
                f"Throughput after warm-up ({rate.steps} steps): "
                f"{rate.tokens_per_second:,.0f} tokens/s{mfu}",
                flush=True,
            )

    return Throughput()


def _figures(rate: Rate, n_params: int, peak: float | None) -> dict[str, float]:
    figures = {
        "window_tokens_per_second": round(rate.tokens_per_second, 1),
        "window_steps": rate.steps,
    }
    if peak:
        figures["window_mfu"] = round(rate.mfu(n_params, peak), 4)
    return figures
