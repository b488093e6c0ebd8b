"""Text from data shown as text: the one escaping helper (``labels.md_escape``), the pages'
use of it and the Markdown report."""

from __future__ import annotations

import re

from analytics.domain.labels import md_escape
from analytics.importing import ingest
from analytics.output import report
from analytics.store.database import Store
from tests.builders import survey_row, survey_workbook

LINK = "[会话已过期请点此重新登录](http://x.invalid/login)"
IMAGE = "![t](https://x.invalid/i.png)"


def test_no_link_image_html_or_directive_survives_the_escape():
    text = md_escape(f"{LINK} {IMAGE} <img src=x> :red[y] **b** `c` $m$ www.x.invalid a|b")
    # every character that starts a link, image, HTML, emphasis, code, table or directive
    # is escaped
    assert not re.search(r"(?<!\\)[\[\]()<>*`$|!]", text)
    assert "http://" not in text and "www." not in text  # GFM would link a bare address
    assert md_escape("错评率5.23%，2,952元") == "错评率5.23%，2,952元"  # figures untouched
    assert md_escape("一\n二") == "一 二"


def test_the_markdown_report_escapes_names_from_the_data(tmp_path):
    store = Store(tmp_path / "r.duckdb")
    rows = [survey_row("H1", LINK, "一组", 3, township="测试乡")]
    assert ingest.import_file(store, "a.xlsx", survey_workbook(rows), IMAGE).status == "loaded"
    text = report.to_markdown(report.build_report(store, IMAGE))
    store.close()
    assert "](http" not in text and "![" not in text
    assert not re.search(r"(?<!\\)\[", text)  # every bracket escaped
