"""``--executor ray``: the same build on Ray Data (the only package that imports ray).

Each source chunk (the local build's chunks) is a *shard*: one row of a Ray Dataset, carried
in order through three ``map_batches`` stages (:mod:`.actors`), each calling the same stage
functions as the local executor (:mod:`plugdata.pipeline.stages`). (1) translate: an actor
pool (one actor per GPU for local models); a finished shard is saved in the staging folder and
reused by the next run, and requests are cached per actor over an immutable view of the run's
``cache.sqlite`` (:mod:`.shards`). (2) filter: one actor, shards in order, so duplicates are
found across shards. (3) format: the formats (and chat-template rendering) of each shard's kept
pairs. The driver (:mod:`.driver`) writes the results through the run's sink (same files, same
shuffle), then stats, config and card, and merges the actors' caches into ``cache.sqlite``.
What crosses between driver and actors is in :mod:`.wire`.
"""

from plugdata.pipeline.ray_executor.driver import build_on_ray

__all__ = ["build_on_ray"]
