"""--translator vllm: the server lifecycle with a stand-in server, and the install hint."""

from __future__ import annotations

import asyncio
import shutil
import sys

import pytest

from plugdata.errors import PlugdataError, ServerError
from plugdata.languages import get_language
from plugdata.translate.chat import ChatClient
from plugdata.translate.vllm import LocalServer, free_port, vllm_installed, vllm_translator

STAND_IN = [sys.executable, "-m", "plugdata.testing.server", "--port", "{port}"]


def _client(base_url: str, api_key: str = "EMPTY") -> ChatClient:
    return ChatClient("fake-model", base_url=base_url, api_key=api_key)


def test_server_starts_answers_and_stops_with_its_process_group():
    port = free_port()
    server = LocalServer(
        [c.replace("{port}", str(port)) for c in STAND_IN], port, startup_timeout=60
    )
    url = server.start()
    assert url == f"http://127.0.0.1:{port}/v1" and server.healthy()
    pid = server.process.pid
    server.stop()
    assert not server.healthy() and server.process is None
    with pytest.raises(ProcessLookupError):
        import os

        os.kill(pid, 0)


def test_translator_starts_the_server_on_first_use_and_stops_it_on_close():
    translator = vllm_translator("fake-model", make_client=_client, command=STAND_IN)
    assert translator.backend == "vllm" and not translator.server.healthy()

    async def go():
        try:
            return await translator.translate(
                {"instruction": "Say hi.", "input": "", "output": "Hi."},
                get_language("en"),
                get_language("it"),
            )
        finally:
            await translator.close()

    outcome = asyncio.run(go())
    assert outcome.fields is not None and set(outcome.fields) == {"instruction", "input", "output"}
    assert translator.server.process is None and not translator.server.healthy()


def test_a_server_that_dies_at_start_is_one_clear_error():
    server = LocalServer(
        [sys.executable, "-c", "import sys; print('no GPU'); sys.exit(3)"],
        free_port(),
        startup_timeout=30,
    )
    with pytest.raises(ServerError, match="exited with code 3 while starting: no GPU"):
        server.start()
    server.log.unlink()  # kept for reading after a failed start


@pytest.mark.skipif(vllm_installed(), reason="vLLM is installed here")
def test_missing_vllm_says_how_to_install():
    with pytest.raises(PlugdataError, match=r"pip install 'plugdata\[vllm\]'"):
        vllm_translator("Qwen/Qwen2.5-0.5B-Instruct", make_client=_client)


@pytest.mark.skipif(
    not vllm_installed() or shutil.which("nvidia-smi") is None, reason="needs vLLM and a GPU"
)
def test_real_vllm_serves_a_model():  # pragma: no cover - only where vLLM runs
    translator = vllm_translator("Qwen/Qwen2.5-0.5B-Instruct", make_client=_client)
    try:
        assert translator.server.start().endswith("/v1")
    finally:
        translator.server.stop()
