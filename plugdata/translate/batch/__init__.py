"""The OpenAI Batch API: requests gathered into shards, a ledger, polling and collection.

- :mod:`~plugdata.translate.batch.ledger`: shards and their batches, on disk;
- :mod:`~plugdata.translate.batch.queue`: gathering, submitting, polling, collecting;
- :mod:`~plugdata.translate.batch.api`: the Files and Batches API calls, retried;
- :mod:`~plugdata.translate.batch.outcomes`: why a batch or request ended unanswered;
- :mod:`~plugdata.translate.batch.client`: :class:`BatchChatClient`, a drop-in chat client.
"""

from plugdata.translate.batch.client import BATCH_DISCOUNT, BatchChatClient
from plugdata.translate.batch.ledger import Ledger, Shard
from plugdata.translate.batch.outcomes import BATCH_LEVEL
from plugdata.translate.batch.queue import BatchesPending, BatchQueue

__all__ = [
    "BATCH_DISCOUNT",
    "BATCH_LEVEL",
    "BatchChatClient",
    "BatchQueue",
    "BatchesPending",
    "Ledger",
    "Shard",
]
