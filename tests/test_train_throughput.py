"""The throughput window: warm-up steps left out, rates over recent steps only (no torch)."""

import pytest

from plugdata.train.throughput import Rate, ThroughputWindow


def steady_run(clock: ThroughputWindow, step_seconds: list[float], tokens_per_step: int) -> None:
    now, tokens = 100.0, 0
    clock.start(now)
    for seconds in step_seconds:
        now += seconds
        tokens += tokens_per_step
        clock.step(now, tokens)


def test_compilation_in_the_first_steps_does_not_count():
    clock = ThroughputWindow(warmup=2, window=5)
    # 60 s and 15 s of compilation, then steady 0.5 s steps of 1,000 tokens
    steady_run(clock, [60.0, 15.0] + [0.5] * 10, 1000)
    recent = clock.recent()
    assert recent == Rate(steps=5, seconds=2.5, tokens=5000)
    assert recent.tokens_per_second == pytest.approx(2000.0)
    assert clock.overall() == Rate(steps=10, seconds=5.0, tokens=10_000)
    assert clock.warmup_seconds == pytest.approx(75.0)
    assert clock.warmup_cost() == pytest.approx(74.0)  # 75 s against two steady 0.5 s steps


def test_the_window_follows_a_change_of_speed():
    clock = ThroughputWindow(warmup=1, window=3)
    steady_run(clock, [30.0] + [1.0] * 5 + [0.25] * 3, 400)
    assert clock.recent().tokens_per_second == pytest.approx(1600.0)
    assert clock.overall().tokens_per_second == pytest.approx(8 * 400 / 5.75)


def test_no_figure_until_a_step_after_the_warm_up():
    clock = ThroughputWindow(warmup=3, window=10)
    steady_run(clock, [5.0, 1.0, 1.0], 100)
    assert clock.recent() is None and clock.overall() is None and clock.warmup_cost() is None
    clock.step(108.0, 400)
    assert clock.recent() == Rate(steps=1, seconds=1.0, tokens=100)


def test_resumed_runs_count_from_their_own_start():
    clock = ThroughputWindow(warmup=1, window=4)
    clock.start(0.0)
    clock.step(20.0, 50_000)  # the token count carries over from the checkpoint
    clock.step(21.0, 50_500)
    assert clock.recent() == Rate(steps=1, seconds=1.0, tokens=500)


def test_mfu_is_six_flops_per_parameter_per_token():
    rate = Rate(steps=10, seconds=2.0, tokens=200_000)
    assert rate.mfu(n_params=700_000_000, peak_flops=989e12) == pytest.approx(
        6 * 700e6 * 100_000 / 989e12
    )


def test_bad_settings_are_refused():
    with pytest.raises(ValueError):
        ThroughputWindow(warmup=0)
    with pytest.raises(ValueError):
        ThroughputWindow(window=0)
