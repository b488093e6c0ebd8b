"""Shared test set-up."""

from streamlit import config


def pytest_configure() -> None:
    # Production hides error details (.streamlit/config.toml); a failing test must show them.
    config.set_option("client.showErrorDetails", "full")
