"""A Hugging Face Hub stand-in on 127.0.0.1: dataset repos, visibility, card checks, commits.

It answers the calls ``huggingface_hub`` makes to publish a run (``repo_info``,
``create_repo``, ``update_repo_settings``, the README metadata check, ``create_commit`` with
files sent inline), so pushes are tested through the real client. Like the Hub, a new repo
follows its organisation's default visibility unless one is asked for, ``create_repo`` leaves an
existing repo's visibility alone, and card metadata with an unknown licence id (or ``other``
without a ``license_name``) is refused with one message per field.
"""

from __future__ import annotations

import base64
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import unquote, urlparse

import yaml

from plugdata.publish.card import HUB_LICENSES
from plugdata.testing.http import ThreadedServer, respond

Answer = tuple[int, Any, dict[str, str]]


@dataclass
class Repo:
    """One dataset repo: its visibility, files and commits."""

    private: bool
    files: dict[str, bytes] = field(default_factory=dict)
    commits: int = 0


class FakeHub(ThreadedServer):
    """A threaded HTTP server speaking enough of the Hub API; ``url`` is its endpoint.

    ``private_orgs`` are the namespaces whose new repos are private by default; ``repos`` holds
    what was created, ``calls`` each request as ``METHOD path``.
    """

    def __init__(self, *, private_orgs: set[str] | None = None) -> None:
        self.private_orgs = set(private_orgs or ())
        self.repos: dict[str, Repo] = {}
        self.calls: list[str] = []
        self._lock = threading.Lock()
        super().__init__(_Handler)

    @property
    def url(self) -> str:
        return self.address

    def answer(self, method: str, path: str, body: bytes) -> Answer:
        """The status, payload and headers for one request."""
        self.calls.append(f"{method} {path}")
        parts = [unquote(p) for p in urlparse(path).path.split("/") if p]
        if parts[:2] == ["api", "whoami-v2"]:
            return 200, {"type": "user", "name": "plugdata-tester", "orgs": []}, {}
        if parts[:2] == ["api", "validate-yaml"]:
            return self._validate(json.loads(body or b"{}"))
        if parts[:3] == ["api", "repos", "create"]:
            return self._create(json.loads(body or b"{}"))
        if len(parts) < 4 or parts[:2] != ["api", "datasets"]:
            return 404, {"error": f"no route {path}"}, {}
        repo_id, rest = f"{parts[2]}/{parts[3]}", parts[4:]
        repo = self.repos.get(repo_id)
        if repo is None:
            return 404, {"error": "Repository not found"}, {"X-Error-Code": "RepoNotFound"}
        if not rest or rest[0] == "revision":
            return (
                200,
                {
                    "id": repo_id,
                    "private": repo.private,
                    "sha": f"{repo.commits:040x}",
                    "siblings": [{"rfilename": f} for f in sorted(repo.files)],
                },
                {},
            )
        if rest == ["settings"] and method == "PUT":
            repo.private = _private(json.loads(body or b"{}"), repo.private)
            return 200, {}, {}
        if rest[0] == "preupload":
            files = json.loads(body or b"{}").get("files", [])
            return (
                200,
                {
                    "files": [
                        {"path": f["path"], "uploadMode": "regular", "shouldIgnore": False}
                        for f in files
                    ]
                },
                {},
            )
        if rest[0] == "commit":
            return self._commit(repo_id, repo, body)
        return 404, {"error": f"no route {path}"}, {}

    def _create(self, payload: dict[str, Any]) -> Answer:
        org, name = payload.get("organization"), payload.get("name")
        repo_id = f"{org}/{name}"
        with self._lock:
            if repo_id in self.repos:
                return (
                    409,
                    {
                        "error": "You already created this dataset repo",
                        "url": f"{self.url}/datasets/{repo_id}",
                    },
                    {},
                )
            private = _private(payload, org in self.private_orgs)
            self.repos[repo_id] = Repo(private)
        return 200, {"url": f"{self.url}/datasets/{repo_id}"}, {}

    def _validate(self, payload: dict[str, Any]) -> Answer:
        """The Hub's card check: one error per field it refuses."""
        content = str(payload.get("content", ""))
        meta: dict[str, Any] = {}
        if content.startswith("---"):
            meta = yaml.safe_load(content.split("---", 2)[1]) or {}
        errors = []
        license_id = meta.get("license")
        if license_id is not None and license_id not in HUB_LICENSES:
            errors.append(
                {"message": f'"license" must be one of the Hub\'s licence ids, not {license_id!r}'}
            )
        if license_id == "other" and not meta.get("license_name"):
            errors.append({"message": '"license_name" is required when "license" is "other"'})
        return (400 if errors else 200), {"errors": errors, "warnings": []}, {}

    def _commit(self, repo_id: str, repo: Repo, body: bytes) -> Answer:
        items = [json.loads(line) for line in body.splitlines() if line.strip()]
        for item in items:
            if item.get("key") == "file":
                value = item["value"]
                repo.files[value["path"]] = base64.b64decode(value["content"])
        repo.commits += 1
        oid = f"{repo.commits:040x}"
        return (
            200,
            {"commitUrl": f"{self.url}/datasets/{repo_id}/commit/{oid}", "commitOid": oid},
            {},
        )


class _Handler(BaseHTTPRequestHandler):
    """Hands every request to the :class:`FakeHub` that owns the HTTP server."""

    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _serve(self, method: str) -> None:
        hub: FakeHub = self.server.owner  # type: ignore[attr-defined]
        length = int(self.headers.get("Content-Length") or 0)
        respond(self, *hub.answer(method, self.path, self.rfile.read(length)))

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_PUT(self) -> None:
        self._serve("PUT")


def _private(payload: dict[str, Any], otherwise: bool) -> bool:
    """The visibility a create or settings request asks for: ``"visibility": "private"`` from
    huggingface_hub 1, ``"private": true`` from earlier releases; ``otherwise`` when neither."""
    if payload.get("visibility"):
        return payload["visibility"] == "private"
    if isinstance(payload.get("private"), bool):
        return payload["private"]
    return otherwise
