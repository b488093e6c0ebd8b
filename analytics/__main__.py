"""``python -m analytics``: the command line (see analytics/cli.py).

Run by an interpreter without the project's packages (say ``python3`` while the README's
``.venv`` is not activated), it runs itself again with ``.venv/bin/python`` when the
project has one, else says what to install instead of a traceback.
"""

import os
import sys
from pathlib import Path

try:
    from analytics.cli import main
except ModuleNotFoundError as e:
    venv_python = Path(__file__).resolve().parent.parent / ".venv" / "bin" / "python"
    if venv_python.exists() and Path(sys.prefix).resolve() != venv_python.parent.parent.resolve():
        os.execv(str(venv_python), [str(venv_python), "-m", "analytics", *sys.argv[1:]])
    sys.stderr.write(
        f"error: this Python lacks the package {e.name!r}. Install the requirements first "
        "(README, 'Two commands'): python3 -m venv .venv && . .venv/bin/activate && "
        "pip install -r requirements.txt\n"
    )
    sys.exit(2)

try:
    sys.exit(main())
except BrokenPipeError:  # output piped into `head` and the like
    sys.exit(0)
