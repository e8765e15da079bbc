"""--translator vllm as vLLM behaves: a context sized from the translation budget, the root
cause of a failed start (and its log kept), a key of its own whatever the environment holds,
a token budget on every request, a port taken by someone else, a session of its own; and
``max_completion_tokens`` for the OpenAI models that refuse ``max_tokens``.

A fake ``vllm`` on PATH records how it was started, then fails as vLLM fails or hands over to
the bundled server (which then demands the key in ``VLLM_API_KEY``, as vLLM does)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import polars as pl
import pytest

from plugdata import build
from plugdata.errors import ServerError
from plugdata.testing import FakeOpenAIServer
from plugdata.translate.vllm import LocalServer, free_port

# The tail of a real vLLM 0.10 start that ran out of KV cache (vllm-project/vllm#2418 and
# later reports): the root cause comes first, the generic line last. Verbatim, so its lines
# stay as long as vLLM wrote them (hence the noqa).
KV_CACHE_LOG = """\
INFO 05-02 10:11:12 [api_server.py:1805] vLLM API server version 0.10.1
INFO 05-02 10:11:40 [gpu_model_runner.py:1953] Model loading took 14.2474 GiB and 21.5 seconds
(EngineCore_0 pid=2412) ERROR 05-02 10:11:58 [core.py:700] EngineCore failed to start.
(EngineCore_0 pid=2412) ERROR 05-02 10:11:58 [core.py:700] Traceback (most recent call last):
(EngineCore_0 pid=2412) ERROR 05-02 10:11:58 [core.py:700]   File "/venv/lib/python3.12/site-packages/vllm/v1/core/kv_cache_utils.py", line 700, in check_enough_kv_cache_memory
(EngineCore_0 pid=2412) ERROR 05-02 10:11:58 [core.py:700]     raise ValueError(
(EngineCore_0 pid=2412) ERROR 05-02 10:11:58 [core.py:700] ValueError: The model's max seq len (32768) is larger than the maximum number of tokens that can be stored in KV cache (21856). Try increasing `gpu_memory_utilization` or decreasing `max_model_len` when initializing the engine.
(EngineCore_0 pid=2412) Process EngineCore_0:
Traceback (most recent call last):
  File "/venv/lib/python3.12/site-packages/vllm/v1/engine/core_client.py", line 92, in make_async_mp_client
RuntimeError: Engine core initialization failed. See root cause above. Failed core proc(s): {}
"""  # noqa: E501

FAKE_VLLM = """\
import json, os, sys
args = sys.argv[1:]
with open(os.environ["FAKE_VLLM_RECORD"], "a") as out:
    out.write(json.dumps({"argv": args, "key": os.environ.get("VLLM_API_KEY")}) + "\\n")
mode = os.environ.get("FAKE_VLLM_MODE", "serve")
if mode == "kv-cache":
    sys.stdout.write(open(os.environ["FAKE_VLLM_LOG"]).read())
    sys.exit(1)
port = args[args.index("--port") + 1]
if mode == "busy-once" and not os.path.exists(os.environ["FAKE_VLLM_RECORD"] + ".busy"):
    open(os.environ["FAKE_VLLM_RECORD"] + ".busy", "w").close()
    print(f"ERROR:    [Errno 98] error while attempting to bind on address ('127.0.0.1', {port}): "
          "address already in use")
    sys.exit(1)
context = args[args.index("--max-model-len") + 1] if "--max-model-len" in args else "32768"
os.execv(sys.executable, [sys.executable, "-m", "plugdata.testing.server", "--port", port,
         "--api-key-env", "VLLM_API_KEY", "--max-model-len", context,
         "--record", os.environ["FAKE_VLLM_RECORD"] + ".requests"])
"""


@pytest.fixture
def fake_vllm(tmp_path, monkeypatch) -> Path:
    """A ``vllm`` executable first on PATH; returns the file its starts are recorded in."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    exe = bin_dir / "vllm"
    exe.write_text(f"#!{sys.executable}\n{FAKE_VLLM}", encoding="utf-8")
    exe.chmod(0o755)
    record = tmp_path / "vllm-starts.jsonl"
    (tmp_path / "kv.log").write_text(KV_CACHE_LOG, encoding="utf-8")
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_VLLM_RECORD", str(record))
    monkeypatch.setenv("FAKE_VLLM_LOG", str(tmp_path / "kv.log"))
    monkeypatch.setenv("PYTHONPATH", str(Path(__file__).resolve().parent.parent))
    return record


def _config(out: Path, **extra) -> dict:
    return {
        "source": "seed",
        "targets": ["zh"],
        "translator": "vllm",
        "limit": 12,
        "model": "Qwen/Qwen2.5-7B-Instruct",
        "out": out,
        "filters": [],
        **extra,
    }


def _starts(record: Path) -> list[dict]:
    return [json.loads(line) for line in record.read_text().splitlines()]


def test_vllm_gets_a_context_from_the_budget_memory_and_pass_through_flags(tmp_path, fake_vllm):
    result = build(
        _config(
            tmp_path / "run",
            vllm_gpu_memory=0.85,
            vllm_args="--enable-prefix-caching --max-num-seqs 64",
        )
    )
    (start,) = _starts(fake_vllm)
    argv = start["argv"]
    context = int(argv[argv.index("--max-model-len") + 1])
    assert 4096 <= context <= 16384  # the translation budget, not the model's 32K
    assert argv[argv.index("--gpu-memory-utilization") + 1] == "0.85"
    assert "--enable-prefix-caching" in argv and argv[argv.index("--max-num-seqs") + 1] == "64"
    assert result.stats["totals"]["kept"] == 12


def test_every_request_carries_a_budget_within_the_context(tmp_path, fake_vllm):
    # Without max_tokens this stand-in loops on whitespace to the end of the context, as vLLM's
    # structured output can (vllm#13260); then a doubled budget is refused with a 400.
    result = build(_config(tmp_path / "run"))
    assert result.stats["totals"]["kept"] == 12, result.stats["languages"]
    argv = _starts(fake_vllm)[0]["argv"]
    context = int(argv[argv.index("--max-model-len") + 1])
    bodies = [json.loads(line) for line in Path(f"{fake_vllm}.requests").read_text().splitlines()]
    assert bodies and all(b.get("max_tokens") for b in bodies)
    assert all(len(json.dumps(b["messages"])) // 4 + b["max_tokens"] <= context for b in bodies)


def test_a_start_that_fails_shows_the_root_cause_and_keeps_the_log(
    tmp_path, fake_vllm, monkeypatch
):
    monkeypatch.setenv("FAKE_VLLM_MODE", "kv-cache")
    with pytest.raises(ServerError) as failed:
        build(_config(tmp_path / "run"))
    message = str(failed.value)
    assert (
        "ValueError: The model's max seq len (32768) is larger than the maximum number of "
        "tokens that can be stored in KV cache (21856)" in message
    )
    log = Path(message.split("log: ")[1].split(")")[0])
    assert log.is_file() and "EngineCore failed to start" in log.read_text()
    log.unlink()


def test_a_server_that_never_gets_healthy_cites_a_log_that_exists(tmp_path):
    server = LocalServer(
        [sys.executable, "-c", "import time; print('loading'); time.sleep(60)"],
        free_port(),
        startup_timeout=1.5,
    )
    with pytest.raises(ServerError, match="did not become healthy") as failed:
        server.start()
    log = Path(str(failed.value).split("log: ")[1].split(")")[0])
    assert log.is_file() and "loading" in log.read_text()
    log.unlink()


def test_vllm_has_its_own_key_whatever_the_environment_holds(tmp_path, fake_vllm, monkeypatch):
    monkeypatch.setenv("VLLM_API_KEY", "inherited-from-the-shell")
    result = build(_config(tmp_path / "run"))
    assert result.stats["totals"]["kept"] == 12  # the client sent the server's own key
    (start,) = _starts(fake_vllm)
    key = start["key"]
    assert key and key != "inherited-from-the-shell" and key not in " ".join(start["argv"])
    for path in result.out.rglob("*"):
        if path.is_file():
            assert key.encode() not in path.read_bytes()


def test_a_port_taken_before_vllm_binds_it_is_retried_on_another(tmp_path, fake_vllm, monkeypatch):
    monkeypatch.setenv("FAKE_VLLM_MODE", "busy-once")
    result = build(_config(tmp_path / "run"))
    assert result.stats["totals"]["kept"] == 12
    first, second = _starts(fake_vllm)
    assert (
        first["argv"][first["argv"].index("--port") + 1]
        != second["argv"][second["argv"].index("--port") + 1]
    )


def test_local_server_retries_a_port_in_use_and_runs_in_its_own_session():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        server = LocalServer(
            [sys.executable, "-m", "plugdata.testing.server", "--port", "{port}"],
            port,
            startup_timeout=60,
        )
        try:
            url = server.start()
            assert server.port != port and url.endswith(f":{server.port}/v1")
            assert os.getsid(server.process.pid) == server.process.pid  # a session of its own
        finally:
            server.stop()


def test_the_server_is_started_without_preexec_fn(monkeypatch):
    seen: dict = {}
    real = subprocess.Popen

    def popen(*args, **kwargs):
        seen.update(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(subprocess, "Popen", popen)
    port = free_port()
    server = LocalServer(
        [sys.executable, "-m", "plugdata.testing.server", "--port", str(port)],
        port,
        startup_timeout=60,
    )
    try:
        server.start()
    finally:
        server.stop()
    assert seen.get("start_new_session") is True and seen.get("preexec_fn") is None


def test_the_server_dies_with_a_parent_killed_by_sigkill(tmp_path):
    parent = textwrap.dedent("""
        import sys, time
        from plugdata.translate.vllm import LocalServer, free_port
        port = free_port()
        server = LocalServer([sys.executable, "-m", "plugdata.testing.server", "--port", str(port)],
                             port, startup_timeout=60)
        server.start()
        print(server.process.pid, flush=True)
        time.sleep(60)
    """)
    proc = subprocess.Popen(
        [sys.executable, "-c", parent],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent)},
    )
    child = int(proc.stdout.readline())
    proc.kill()
    proc.wait()
    for _ in range(100):
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            return
        import time

        time.sleep(0.1)
    os.kill(child, 9)
    pytest.fail("the server outlived its parent")


def test_o_series_models_get_max_completion_tokens(tmp_path):
    with FakeOpenAIServer() as srv:
        result = build(
            {
                "source": "seed",
                "targets": ["zh"],
                "model": "o3-mini",
                "limit": 5,
                "base_url": srv.url,
                "out": tmp_path / "run",
                "filters": [],
                "max_output_tokens": 2048,
            }
        )
        assert all("max_completion_tokens" in b and "max_tokens" not in b for b in srv.requests)
    pairs = pl.read_parquet(result.out / "pairs.parquet")
    assert pairs["kept"].all(), pairs["reasons"].to_list()
