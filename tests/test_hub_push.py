"""Publishing to the Hub as the Hub behaves, through the real ``huggingface_hub`` client and a
stand-in Hub on 127.0.0.1: visibility is never silently wrong, refused card metadata is shown
whole as bad input, and an unknown licence stays ``unknown``."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import huggingface_hub.constants
import pytest
from huggingface_hub import DatasetCard

from plugdata import build
from plugdata.errors import PlugdataError
from plugdata.publish import push_run
from plugdata.testing import FakeOpenAIServer
from plugdata.testing.hub import FakeHub, Repo

from .conftest import RECORDS, run_cli, seed_args


def _run(root: Path, source: str) -> Path:
    with FakeOpenAIServer() as srv:
        build(
            {
                "source": source,
                "targets": ["zh"],
                "model": "m",
                "base_url": srv.url,
                "out": root / "run",
                "filters": [],
                "formats": ["plug"],
                "limit": 5,
            }
        )
    return root / "run"


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    """A finished run of the bundled seed (Apache-2.0)."""
    return _run(tmp_path_factory.mktemp("hub"), "seed")


@pytest.fixture(scope="module")
def unlicensed_run(tmp_path_factory) -> Path:
    """A finished run from a local file whose licence nobody stated."""
    root = tmp_path_factory.mktemp("mine")
    source = root / "mine.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in RECORDS), encoding="utf-8")
    return _run(root, str(source))


@pytest.fixture
def hub(monkeypatch) -> Iterator[FakeHub]:
    """The stand-in Hub, used by this process's ``huggingface_hub`` (which is offline in tests)."""
    with FakeHub(private_orgs={"acme"}) as stand_in:
        monkeypatch.setattr(huggingface_hub.constants, "ENDPOINT", stand_in.url)
        monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
        monkeypatch.setenv("HF_TOKEN", "hf_test_token_not_real")
        _reset_sessions()  # huggingface_hub < 1 caches a session made while offline
        yield stand_in
        _reset_sessions()


def _reset_sessions() -> None:
    reset = getattr(huggingface_hub.utils, "reset_sessions", None)
    if reset is not None:
        reset()


def _cli_env(hub: FakeHub) -> dict[str, str]:
    return {"HF_ENDPOINT": hub.url, "HF_HUB_OFFLINE": "0", "HF_TOKEN": "hf_test_token_not_real"}


def test_an_unknown_licence_stays_unknown_and_the_hub_takes_the_card(unlicensed_run, hub):
    meta = DatasetCard.load(unlicensed_run / "README.md").data.to_dict()
    assert meta["license"] == "unknown"
    result = push_run(unlicensed_run, "me/plug-mine")
    assert result.commit_url and "README.md" in hub.repos["me/plug-mine"].files


def test_private_data_is_never_pushed_into_an_existing_public_repo(run_dir, hub):
    hub.repos["me/open"] = Repo(private=False)
    refused = run_cli("push", str(run_dir), "--repo", "me/open", "--private", env=_cli_env(hub))
    assert refused.returncode == 2, refused.stderr
    lines = [line for line in refused.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "public" in lines[0] and "--change-visibility" in lines[0]
    assert hub.repos["me/open"].files == {} and not hub.repos["me/open"].private
    moved = run_cli(
        "push",
        str(run_dir),
        "--repo",
        "me/open",
        "--private",
        "--change-visibility",
        env=_cli_env(hub),
    )
    assert moved.returncode == 0, moved.stderr
    assert hub.repos["me/open"].private and "README.md" in hub.repos["me/open"].files
    settings = hub.calls.index("PUT /api/datasets/me/open/settings")
    assert settings < max(i for i, c in enumerate(hub.calls) if "/commit/" in c)  # private first


def test_a_public_push_into_a_private_repo_stops_too_and_no_flag_keeps_what_is_there(run_dir, hub):
    hub.repos["me/closed"] = Repo(private=True)
    with pytest.raises(PlugdataError, match="is private"):
        push_run(run_dir, "me/closed", private=False)
    assert hub.repos["me/closed"].files == {}
    push_run(run_dir, "me/closed")  # no visibility asked: the repo's own holds
    assert hub.repos["me/closed"].private and hub.repos["me/closed"].files


def test_without_a_flag_a_new_repo_follows_the_organisations_default(run_dir, hub):
    done = run_cli("push", str(run_dir), "--repo", "acme/plug-mine", env=_cli_env(hub))
    assert done.returncode == 0, done.stderr
    assert hub.repos["acme/plug-mine"].private  # acme makes new repos private
    done = run_cli("push", str(run_dir), "--repo", "acme/plug-open", "--public", env=_cli_env(hub))
    assert done.returncode == 0 and not hub.repos["acme/plug-open"].private


def test_build_checks_visibility_before_it_translates_anything(tmp_path, hub):
    hub.repos["me/open"] = Repo(private=False)
    with FakeOpenAIServer() as srv:
        done = run_cli(
            *seed_args(srv.url, str(tmp_path / "run")),
            "--no-filter",
            "--push-to-hub",
            "me/open",
            "--private",
            env=_cli_env(hub),
        )
        assert done.returncode == 2 and "public" in done.stderr, done.stderr
        assert srv.requests == []  # refused before any paid request


def test_metadata_the_hub_refuses_is_shown_whole_as_bad_input(run_dir, hub, tmp_path):
    bad = tmp_path / "run"
    shutil.copytree(run_dir, bad)
    card = (bad / "README.md").read_text(encoding="utf-8")
    (bad / "README.md").write_text(
        card.replace("license: apache-2.0", "license: made-up-1.0"), encoding="utf-8"
    )
    done = run_cli("push", str(bad), "--repo", "me/plug-bad", env=_cli_env(hub))
    assert done.returncode == 2, done.stderr
    assert "Invalid metadata in README.md" in done.stderr
    assert '"license" must be one of' in done.stderr and "made-up-1.0" in done.stderr
    assert "cannot reach" not in done.stderr and "retry" not in done.stderr
    assert "me/plug-bad" not in hub.repos or not hub.repos["me/plug-bad"].files
