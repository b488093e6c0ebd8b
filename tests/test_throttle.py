"""Sign-in throttling: a growing wait per account and client, for unknown names too, failures
audited, one message whether or not the account exists.

The clock is the ``now`` passed to each attempt; nothing sleeps.
"""

from __future__ import annotations

import datetime as dt
import json
import threading

import pytest
from streamlit.testing.v1 import AppTest

from analytics.access import accounts
from analytics.access.accounts import THROTTLE, TooManyAttempts
from analytics.store.database import Store

T0 = dt.datetime(2026, 3, 2, 9, 0, 0)
SECOND = dt.timedelta(seconds=1)
RIGHT, WRONG = "inspector pw", "not the password"


@pytest.fixture
def store(tmp_path) -> Store:
    s = Store(tmp_path / "throttle.duckdb")
    accounts.create_user(s, "boss", "long enough", "admin")
    accounts.create_user(s, "li", RIGHT, "inspector", by="boss")
    yield s
    s.close()


def attempt(store: Store, name: str, password: str, at: dt.datetime, client: str = "10.0.0.9"):
    """The user, None for a wrong password, or the wait (timedelta) when refused."""
    try:
        return accounts.sign_in(store, name, password, client=client, now=at)
    except TooManyAttempts as e:
        return e.retry_in


def test_the_wait_grows_5_10_20_seconds_after_three_failures_up_to_15_minutes():
    waits = [THROTTLE.delay(n).total_seconds() for n in range(12)]
    assert waits == [0, 0, 0, 5, 10, 20, 40, 80, 160, 320, 640, 900]
    assert THROTTLE.delay(500) == dt.timedelta(minutes=15)


def test_thirty_wrong_passwords_in_a_minute_then_the_right_one_is_refused(store):
    results = [attempt(store, "li", WRONG, T0 + i * 2 * SECOND) for i in range(30)]
    # three are checked at once, the 4th waits for 5 s after the 3rd (at 4 s): taken at 10 s
    checked = [r for r in results if r is None]
    refused = [r for r in results if isinstance(r, dt.timedelta)]
    assert len(checked) == 6  # at 0, 2, 4 s; then 10 s (+5), 20 s (+10), 40 s (+20)
    assert len(refused) == 24 and all(r > dt.timedelta(0) for r in refused)
    # the right password a second after the 30th attempt (58 s) is refused too, unread
    wait = attempt(store, "li", RIGHT, T0 + 59 * SECOND)
    assert wait == dt.timedelta(seconds=40 + 40 - 59)  # the 6th failure at 40 s waits 40 s
    # after the wait the right password is taken, and the count starts over
    assert attempt(store, "li", RIGHT, T0 + 80 * SECOND) == accounts.User("li", "inspector")
    assert attempt(store, "li", WRONG, T0 + 81 * SECOND) is None
    assert attempt(store, "li", WRONG, T0 + 81 * SECOND) is None


def test_failures_from_one_client_do_not_delay_the_user_elsewhere(store):
    for i in range(10):
        attempt(store, "li", WRONG, T0 + i * SECOND, client="203.0.113.5")
    assert isinstance(
        attempt(store, "li", RIGHT, T0 + 11 * SECOND, client="203.0.113.5"), dt.timedelta
    )
    assert attempt(store, "li", RIGHT, T0 + 11 * SECOND, client="10.0.0.9") == accounts.User(
        "li", "inspector"
    )


def test_an_unknown_name_waits_exactly_as_a_real_one(store):
    for name in ("li", "nobody"):
        results = [attempt(store, name, WRONG, T0 + i * SECOND) for i in range(5)]
        # three checked (at 0, 1, 2 s), then 5 s after the third: 4 s left at 3 s, 3 s at 4 s
        assert results == [None, None, None, 4 * SECOND, 3 * SECOND]


def test_a_disabled_account_fails_like_a_wrong_password(store):
    accounts.set_disabled(store, "li", True, by="boss")
    assert attempt(store, "li", RIGHT, T0) is None


def test_the_wait_is_forgotten_a_day_after_the_last_failure(store):
    for i in range(8):
        attempt(store, "li", WRONG, T0 + i * dt.timedelta(minutes=20))
    last = T0 + 7 * dt.timedelta(minutes=20)
    assert isinstance(attempt(store, "li", RIGHT, last + SECOND), dt.timedelta)
    assert attempt(store, "li", RIGHT, last + dt.timedelta(hours=24)) == accounts.User(
        "li", "inspector"
    )


def test_failures_are_audited_naming_only_real_accounts(store):
    attempt(store, "li", WRONG, T0)
    attempt(store, "my secret password", WRONG, T0)  # a password typed as the name
    attempt(store, "li", WRONG, T0 + SECOND, client="198.51.100.1")
    log = accounts.audit_log(store)
    failed = [json.loads(d) for d in log[log["action"] == "login_failed"]["detail"]]
    assert sorted((d["account"] or "", d["client"]) for d in failed) == [
        ("", "10.0.0.9"),
        ("li", "10.0.0.9"),
        ("li", "198.51.100.1"),
    ]
    assert not log["detail"].str.contains("my secret password|not the password").any()
    stored = store.cursor().execute("SELECT account_hash FROM login_failures").fetchall()
    assert all("secret" not in row[0] for row in stored)


def test_a_burst_of_concurrent_attempts_gets_no_more_than_the_free_three_checked(store):
    # Each attempt is counted before Argon2 runs, so attempts in flight see each other.
    barrier = threading.Barrier(10)
    results: list[object] = []

    def one() -> None:
        barrier.wait()
        results.append(attempt(store, "li", WRONG, T0))

    threads = [threading.Thread(target=one) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert sorted(str(r) for r in results) == ["0:00:05"] * 7 + ["None"] * 3


# ------------------------------------------------------------------ the sign-in form
def _sign_in_form(at: AppTest, name: str, password: str) -> AppTest:
    at.sidebar.text_input(key="login_name").input(name)
    at.sidebar.text_input(key="login_password").input(password)
    return at.sidebar.button[0].click().run()


def test_the_form_says_the_same_for_an_unknown_name_and_then_when_to_retry(tmp_path, monkeypatch):
    monkeypatch.setattr(accounts, "utcnow", lambda: T0)  # the page's clock stands still
    db = tmp_path / "form.duckdb"
    s = Store(db)
    accounts.create_user(s, "li", RIGHT, "inspector")
    s.close()
    monkeypatch.setenv("POVERTY_DB", str(db))
    at = AppTest.from_file("../app.py", default_timeout=180).run()
    errors = []
    for name in ("li", "nobody"):
        for _ in range(3):
            _sign_in_form(at, name, WRONG)
            errors.append(at.sidebar.error[0].value)
    assert set(errors) == {"用户名或密码不正确。"}
    for name in ("li", "nobody"):
        _sign_in_form(at, name, RIGHT if name == "li" else WRONG)
        assert at.sidebar.error[0].value == "尝试次数过多，请 5 秒后再试。"
    assert not any("已登录" in c.value for c in at.sidebar.caption)
