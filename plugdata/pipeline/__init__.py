"""The build recipe: wires the stages and owns the run directory, progress hooks and stats."""

from plugdata.pipeline.batches import batch_ledgers
from plugdata.pipeline.build import BuildResult, Interrupted, build
from plugdata.pipeline.estimate import estimate
from plugdata.pipeline.plan import Plan, default_out, make_plan

__all__ = [
    "BuildResult",
    "Interrupted",
    "Plan",
    "batch_ledgers",
    "build",
    "default_out",
    "estimate",
    "make_plan",
]
