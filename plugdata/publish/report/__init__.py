"""``report.html``: one offline page per build (this package) and per evaluation (built on
:func:`fit_page` by :mod:`plugdata.eval.page`), with inline CSS and JS and the data escaped."""

from plugdata.publish.report.examples import Limits
from plugdata.publish.report.page import (
    MAX_PAGE_BYTES,
    REPORT_HTML,
    clip,
    fit_page,
    render_page,
    safe_json,
    write_page,
)
from plugdata.publish.report.run import build_report_data, shape_build_data, write_build_report

__all__ = [
    "MAX_PAGE_BYTES",
    "REPORT_HTML",
    "Limits",
    "build_report_data",
    "clip",
    "fit_page",
    "render_page",
    "safe_json",
    "shape_build_data",
    "write_build_report",
    "write_page",
]
