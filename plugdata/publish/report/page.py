"""One self-contained HTML page: inline CSS and JS, the data as escaped JSON, no network.

The data travels in a ``<script type="application/json">`` block with ``<``, ``>``, ``&`` and
the JavaScript line separators escaped, so no record can close the block; the page's script
renders it with ``textContent`` only. A Content-Security-Policy allows the page's own script
(by its hash) and nothing else: no network, no inline handlers, no other script.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

from plugdata.atomic import write_bytes_atomic

REPORT_HTML = "report.html"
MAX_PAGE_BYTES = 5_000_000  # the page stays under this, whatever the run's size
_ASSETS = Path(__file__).parent
_JSON_ESCAPES = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}
# Text limits tried in turn until the page fits (characters per text, share of the examples).
LEVELS = (
    (12000, 1.0),
    (4000, 1.0),
    (2000, 1.0),
    (1000, 1.0),
    (500, 1.0),
    (500, 0.5),
    (250, 0.25),
    (120, 0.1),
)


def safe_json(data: Any) -> str:
    """``data`` as JSON that can sit inside a ``<script>`` element: no ``<``, ``>``, ``&``."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return "".join(_JSON_ESCAPES.get(ch, ch) for ch in text) if _needs_escape(text) else text


def _needs_escape(text: str) -> bool:
    return any(ch in text for ch in _JSON_ESCAPES)


def clip(text: Any, limit: int) -> Any:
    """``text`` cut to ``limit`` characters, saying how much was left out (other values as is)."""
    if not isinstance(text, str) or len(text) <= limit:
        return text
    return f"{text[:limit]}… [{len(text) - limit:,} more characters in the data files]"


@lru_cache(maxsize=8)
def _asset(name: str) -> str:
    text = (_ASSETS / name).read_text(encoding="utf-8")
    if name != "page.html" and ("</script" in text.lower() or "</style" in text.lower()):
        raise ValueError(f"report asset {name} contains a closing tag")
    return text


def _csp_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def render_page(kind: str, title: str, data: dict[str, Any]) -> str:
    """The page for ``kind`` (``build`` or ``eval``): ``data`` is rendered by its script."""
    import jinja2
    from markupsafe import Markup

    script = _asset("common.js") + "\n" + _asset(f"{kind}.js")
    style = _asset("report.css")
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    template = env.from_string(_asset("page.html"))
    csp = (
        f"default-src 'none'; script-src {_csp_hash(script)}; style-src {_csp_hash(style)}; "
        "img-src data:; base-uri 'none'; form-action 'none'"
    )
    return template.render(
        title=title,
        kind=kind,
        csp=Markup(csp),
        style=Markup(style),
        script=Markup(script),
        data=Markup(safe_json(data)),
    )


def fit_page(
    kind: str,
    title: str,
    shape: Callable[[int, float], dict[str, Any]],
    max_bytes: int = MAX_PAGE_BYTES,
    levels: Iterable[tuple[int, float]] = LEVELS,
) -> str:
    """The first page under ``max_bytes``: ``shape(chars, share)`` gives the data with texts
    cut to ``chars`` and that share of the examples; the smallest level is used if none fits."""
    page = ""
    for chars, share in levels:
        page = render_page(kind, title, shape(chars, share))
        if len(page.encode("utf-8")) <= max_bytes:
            return page
    return page


def write_page(path: str | Path, page: str) -> Path:
    """Write the page atomically (a temporary file renamed into place)."""
    return write_bytes_atomic(path, page.encode("utf-8"))
