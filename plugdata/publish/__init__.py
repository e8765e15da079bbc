"""Publishing a run: the run directory, streamed tables, the dataset card and chart, the
report page (``report.html``), the Hub."""

from plugdata.publish.card import CHART_NAME, render_card
from plugdata.publish.chart import write_chart
from plugdata.publish.hub import PushResult, push_run
from plugdata.publish.report import REPORT_HTML, write_build_report
from plugdata.publish.rundir import (
    BATCHES_DIR,
    CACHE_NAME,
    RunDirectory,
    write_records,
    write_text_atomic,
)
from plugdata.publish.tables import ShuffledWriter, TableWriter

__all__ = [
    "BATCHES_DIR",
    "CACHE_NAME",
    "CHART_NAME",
    "REPORT_HTML",
    "PushResult",
    "RunDirectory",
    "ShuffledWriter",
    "TableWriter",
    "push_run",
    "render_card",
    "write_build_report",
    "write_chart",
    "write_records",
    "write_text_atomic",
]
