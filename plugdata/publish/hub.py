"""Publish a run directory to the Hugging Face Hub as one commit."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from plugdata.errors import PlugdataError
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
    private: bool = False,
    token: str | None = None,
    dry_run: bool = False,
) -> PushResult:
    """Create the dataset repo if needed and upload card, chart and data in one commit.

    The token comes from ``token``, ``HF_TOKEN`` or the stored ``huggingface-cli login``.
    """
    if repo_id.count("/") != 1 or not all(repo_id.split("/")):
        raise PlugdataError(f"--repo must look like OWNER/NAME, got {repo_id!r}")
    root = Path(run_dir)
    files = upload_files(root)
    if dry_run:
        return PushResult(repo_id, files)
    from huggingface_hub import CommitOperationAdd, HfApi
    from huggingface_hub.errors import HfHubHTTPError

    api = HfApi(token=token or os.environ.get("HF_TOKEN") or None)
    operations = [CommitOperationAdd(path_in_repo=f, path_or_fileobj=str(root / f)) for f in files]
    try:
        api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
        info = api.create_commit(
            repo_id,
            operations,
            commit_message=f"Upload plugdata run {root.name}",
            repo_type="dataset",
        )
    except HfHubHTTPError as exc:
        raise PlugdataError(
            f"the Hub refused the upload to {repo_id}: {str(exc).splitlines()[0]}"
        ) from None
    except Exception as exc:  # no network (httpx errors are not OSError), offline mode, DNS
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise PlugdataError(
            f"cannot reach the Hugging Face Hub to upload {root} to {repo_id}: {detail}; "
            f"the run is complete locally: retry with `plugdata push {root} --repo {repo_id}`"
        ) from None
    return PushResult(repo_id, files, getattr(info, "commit_url", None))
