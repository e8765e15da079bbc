"""Publish a run directory to the Hugging Face Hub as one commit, never in the wrong
visibility: an existing repo keeps its own unless asked (and allowed) to change, a new one
gets the Hub's default unless asked."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from plugdata.errors import InputError, PlugdataError, first_line
from plugdata.publish.rundir import BATCHES_DIR, CACHE_NAME

_NOT_UPLOADED = {CACHE_NAME, f"{CACHE_NAME}-wal", f"{CACHE_NAME}-shm"}


@dataclass(frozen=True)
class PushResult:
    """What was (or would be) uploaded, and where."""

    repo_id: str
    files: list[str]
    commit_url: str | None = None


def upload_files(run_dir: str | Path) -> list[str]:
    """The run's files that belong on the Hub (not the request cache or batch ledgers, nothing
    hidden)."""
    root = Path(run_dir)
    if not (root / "README.md").is_file():
        raise PlugdataError(f"{root} is not a plugdata run directory (no README.md dataset card)")
    files = []
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if (
            path.is_file()
            and rel.name not in _NOT_UPLOADED
            and rel.parts[0] != BATCHES_DIR
            and not any(p.startswith(".") for p in rel.parts)
        ):
            files.append(rel.as_posix())
    return files


def push_run(
    run_dir: str | Path,
    repo_id: str,
    *,
    private: bool | None = None,
    change_visibility: bool = False,
    token: str | None = None,
    dry_run: bool = False,
) -> PushResult:
    """Create the dataset repo if needed and upload card, chart and data in one commit.

    ``private`` True or False asks for that visibility; None keeps the existing repo's, or the
    Hub's default (an organisation's private-by-default) for a new one. An existing repo whose
    visibility differs is refused before anything is uploaded, unless ``change_visibility``.
    The token comes from ``token``, ``HF_TOKEN`` or the stored ``huggingface-cli login``.
    """
    if repo_id.count("/") != 1 or not all(repo_id.split("/")):
        raise PlugdataError(f"--repo must look like OWNER/NAME, got {repo_id!r}")
    root = Path(run_dir)
    files = upload_files(root)
    if dry_run:
        return PushResult(repo_id, files)
    from huggingface_hub import CommitOperationAdd

    api = _api(token)
    operations = [CommitOperationAdd(path_in_repo=f, path_or_fileobj=str(root / f)) for f in files]
    with _hub_errors(f"upload {root} to {repo_id}", f"plugdata push {root} --repo {repo_id}"):
        _ensure_repo(api, repo_id, private, change_visibility)
        info = api.create_commit(
            repo_id,
            operations,
            commit_message=f"Upload plugdata run {root.name}",
            repo_type="dataset",
        )
    return PushResult(repo_id, files, getattr(info, "commit_url", None))


def check_visibility(
    repo_id: str, private: bool | None, change_visibility: bool = False, token: str | None = None
) -> None:
    """Refuse now (before a build spends anything) a push that would be refused at the end."""
    if private is None or change_visibility:
        return
    api = _api(token)
    with _hub_errors(f"check {repo_id}", "the same command"):
        current = _visibility(api, repo_id)
    _refuse_mismatch(repo_id, current, private)


def _api(token: str | None) -> Any:
    from huggingface_hub import HfApi

    return HfApi(token=token or os.environ.get("HF_TOKEN") or None)


def _visibility(api: Any, repo_id: str) -> bool | None:
    """Whether the repo is private; None when there is no such repo (yet)."""
    from huggingface_hub.errors import RepositoryNotFoundError

    try:
        return bool(api.repo_info(repo_id, repo_type="dataset").private)
    except RepositoryNotFoundError:
        return None


def _refuse_mismatch(repo_id: str, current: bool | None, private: bool) -> None:
    if current is None or current == private:
        return
    has, wanted = ("private", "public") if current else ("public", "private")
    raise PlugdataError(
        f"{repo_id} exists and is {has}, but --{wanted} was asked for: nothing was uploaded; "
        f"pass --change-visibility to make it {wanted} first, or leave out --{wanted} to keep "
        f"it {has}"
    )


def _ensure_repo(api: Any, repo_id: str, private: bool | None, change: bool) -> None:
    """The repo exists with the visibility asked for (changed only when ``change``) before
    any file is sent; a new one gets the Hub's default unless one is asked for."""
    current = _visibility(api, repo_id)
    if current is None:
        api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
        current = _visibility(api, repo_id)  # someone may have made it meanwhile
    if private is None or current == private:
        return
    if not change:
        _refuse_mismatch(repo_id, current, private)
    api.update_repo_settings(repo_id, repo_type="dataset", private=private)


@contextlib.contextmanager
def _hub_errors(what: str, again: str) -> Iterator[None]:
    """The Hub's refusals as one message: card metadata it rejects is bad input, shown whole;
    other refusals name the status; anything else is the network."""
    from huggingface_hub.errors import HfHubHTTPError

    try:
        yield
    except PlugdataError:
        raise
    except HfHubHTTPError as exc:
        status = getattr(getattr(exc, "response", None), "status_code", None)
        if status == 400:
            raise InputError(f"the Hub refused to {what} (400): {_whole(exc)}") from None
        raise PlugdataError(f"the Hub refused to {what} ({status}): {_whole(exc)}") from None
    except ValueError as exc:  # the client's card check: "Invalid metadata in README.md ..."
        raise InputError(f"the Hub refused the dataset card (README.md): {_whole(exc)}") from None
    except Exception as exc:  # no network (httpx errors are not OSError), offline mode, DNS
        raise PlugdataError(
            f"cannot reach the Hugging Face Hub to {what}: {first_line(exc)}; the run is complete "
            f"locally: retry with `{again}`"
        ) from None


def _whole(exc: BaseException) -> str:
    """Every line of an error (the server's field messages included), blank lines dropped."""
    return "\n  ".join(line.strip() for line in str(exc).splitlines() if line.strip())
