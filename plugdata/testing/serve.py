"""``python -m plugdata.testing.server``: the test server from the command line.

Besides faults and scripted judges it can stand in for a vLLM server: ``--api-key-env
VLLM_API_KEY`` demands the key that variable holds (as vLLM does), ``--max-model-len`` gives it a
context, and ``--record FILE`` appends every chat request body to FILE as a JSON line.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import threading
from typing import Any

from plugdata.testing.batches import BatchFaults
from plugdata.testing.faults import FAULT_KINDS, fault_mix
from plugdata.testing.server import JUDGE_POLICIES, FakeOpenAIServer, judge_policy


class RecordingServer(FakeOpenAIServer):
    """A :class:`FakeOpenAIServer` that also appends each request body to a file."""

    def __init__(self, record: str, **options: Any) -> None:
        super().__init__(**options)
        self.record_path = record

    def record(self, body: dict[str, Any]) -> int:
        count = super().record(body)
        with self._lock, open(self.record_path, "a", encoding="utf-8") as out:
            out.write(json.dumps(body, ensure_ascii=False) + "\n")
        return count


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to each reply")
    parser.add_argument("--api-key", default=None)
    parser.add_argument(
        "--api-key-env",
        default=None,
        metavar="NAME",
        help="demand the API key held by this environment variable",
    )
    parser.add_argument("--faults", type=float, default=0.0, help="share of requests to fault")
    parser.add_argument("--fault-kinds", default=",".join(FAULT_KINDS))
    parser.add_argument(
        "--judge",
        default=None,
        metavar="POLICY",
        help=f"answer judge prompts: {', '.join(JUDGE_POLICIES)}",
    )
    parser.add_argument(
        "--max-model-len",
        type=int,
        default=None,
        help="a context like vLLM's (structured output without max_tokens loops)",
    )
    parser.add_argument(
        "--record", default=None, metavar="FILE", help="append every chat request body to FILE"
    )
    parser.add_argument(
        "--batch-expire",
        type=float,
        default=0.0,
        help="Batch API: share of each batch's requests left to expire",
    )
    parser.add_argument(
        "--batch-errors",
        type=float,
        default=0.0,
        help="Batch API: share of requests answered with an error line",
    )
    parser.add_argument(
        "--batch-delay", type=float, default=0.0, help="Batch API: seconds per batch"
    )
    parser.add_argument(
        "--batch-token-limit",
        type=int,
        default=None,
        help="Batch API: enqueued prompt tokens allowed at once",
    )
    return parser


def main() -> None:
    """Serve until interrupted."""
    parser = _parser()
    args = parser.parse_args()
    fault = fault_mix(args.faults, args.fault_kinds.split(",")) if args.faults else None
    try:
        judge = judge_policy(args.judge) if args.judge else None
    except ValueError as exc:
        parser.error(str(exc))
    key = os.environ.get(args.api_key_env) if args.api_key_env else args.api_key
    faults = BatchFaults(
        args.batch_expire,
        args.batch_errors,
        delay=args.batch_delay,
        token_limit=args.batch_token_limit,
    )
    options: dict[str, Any] = {
        "port": args.port,
        "latency": args.latency,
        "api_key": key,
        "fault": fault,
        "judge": judge,
        "batch_faults": faults,
        "max_model_len": args.max_model_len,
    }
    server = RecordingServer(args.record, **options) if args.record else FakeOpenAIServer(**options)
    with server as srv:
        print(f"fake OpenAI-compatible server at {srv.url} (Ctrl-C to stop)", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()


if __name__ == "__main__":
    main()
