"""Find files shipped with plugdata, from a source checkout or from an installed wheel."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def resource_dir(name: str) -> Path:
    """Return the directory of a bundled resource (``prompts`` or ``corpora/seed``).

    A wheel carries them inside the package under ``_bundled/``; a source checkout or an
    editable install reads them from the repository root.
    """
    for candidate in (_PACKAGE / "_bundled" / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"plugdata resource {name!r} is missing from this installation")


def accelerate_config(name: str) -> Path:
    """A bundled accelerate config: ``ddp``, ``fsdp2`` or ``zero3``."""
    from plugdata.errors import PlugdataError

    folder = _PACKAGE / "train" / "accelerate"
    path = folder / f"{name}.yaml"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in folder.glob("*.yaml")))
        raise PlugdataError(f"no accelerate config {name!r}; bundled: {known}")
    return path
