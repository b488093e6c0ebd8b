"""An administrator chooses each hostile file of tests/hostile.py in the uploader of a real
``streamlit run app.py``: each is "unreadable" with its reason, the server keeps running,
another session is still served after each one, and the database holds what it held.

Without the parse worker (analytics/importing/worker.py) the first of them aborted the server
("memory allocation of 549755813888 bytes failed") and every session with it.
"""

from __future__ import annotations

import urllib.request

from playwright.sync_api import Browser, expect

from analytics.store.database import Store
from tests import hostile
from tests.e2e.conftest import new_context, rerun, running_server, settle, setup_token_of, shot
from tests.e2e.test_journeys import as_admin, metric


def test_the_server_survives_each_hostile_file_chosen_in_the_uploader(browser: Browser, tmp_path):
    files = {name: make() for name, make in hostile.ABORTING.items()}
    files["大表.xlsx"] = hostile.memory_hungry()  # over the 1 GB worker limit set below
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    with running_server(tmp_path, {"POVERTY_WORKER_MEMORY_MB": "1024"}) as server:
        admin_context = new_context(browser)
        leader_context = new_context(browser)
        admin, leader = admin_context.new_page(), leader_context.new_page()
        leader.goto(server.url)
        expect(metric(leader, "新增户")).to_contain_text("86 户 / 297 人")  # the year's picture
        as_admin(admin, server.url, setup_token_of(server.log))
        uploader = admin.get_by_test_id("stFileUploaderDropzoneInput")
        for name in files:
            with rerun(admin):  # the upload, then the run that inspects the file
                uploader.set_input_files(str(tmp_path / name))
            alert = admin.get_by_test_id("stAlert").filter(has_text=name)
            expect(alert.filter(has_text="无法读取")).to_be_visible()
            assert server.proc.poll() is None, f"the server died on {name}"
            with urllib.request.urlopen(f"{server.url}/_stcore/health", timeout=10) as r:
                assert r.status == 200
            leader.reload()  # another session, served after each file
            expect(metric(leader, "新增户")).to_contain_text("86 户 / 297 人")
            settle(leader)  # no run of this page is cut short by the next reload
        expect(admin.get_by_text("超过上限 1024 MB").first).to_be_visible()
        shot(admin, "data_hostile_files")
        admin_context.close()
        leader_context.close()
    store = Store(server.db)
    try:
        assert store.batches()["is_demo"].all()  # only the demo's batches, as at the start
        assert len(store.batches()) == 2
    finally:
        store.close()
