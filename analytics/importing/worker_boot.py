"""What the parse workers' fork server imports before it forks any worker (and nothing else
imports): the parsers, and a fix for one thing ``multiprocessing`` does in every child.

A child of ``multiprocessing``'s fork server normally re-runs the parent's main script
before it unpickles its task (``spawn._fixup_main_from_path``): under ``streamlit run``
that is Streamlit's command line, imported again for every uploaded file. The workers'
task (``analytics.worker._serve``) needs nothing from the main script, so in this process,
and the workers forked from it, that step does nothing. The fork server runs nothing else.
"""

from multiprocessing import spawn

import pandas  # noqa: F401  (pyarrow imports it the first time it converts Python values)

import analytics.importing.worker  # noqa: F401  (the parsers, imported once, shared by every worker)


def _no_main(_main: str) -> None:
    return None


# Private functions of multiprocessing.spawn, deliberately replaced (see the module); the
# stdlib's stubs do not list private names, hence the ignores.
spawn._fixup_main_from_path = _no_main  # type: ignore[attr-defined]
spawn._fixup_main_from_name = _no_main  # type: ignore[attr-defined]
