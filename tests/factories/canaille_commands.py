"""Canaille's own command line, kept in one process: each line read is a JSON list of one ``canaille`` command's
arguments, each line written a JSON object of its exit ``code``, ``stdout`` and ``stderr``.

It is the same command an administrator types (``canaille create user …``), run by Click's own runner, without a
new Python importing Canaille for every user, group and client a test makes (about two seconds of a core each).
Run by path, as ``canaille_server.py`` is: ``python -P canaille_commands.py``.
"""

from __future__ import annotations

import json
import sys
import traceback

from canaille.commands import cli
from click.testing import CliRunner


def main() -> None:
    answers = sys.stdout  # the runner swaps sys.stdout for each command's own
    runner = CliRunner()
    for line in sys.stdin:
        result = runner.invoke(cli, json.loads(line), prog_name="canaille")
        stderr = result.stderr
        if result.exc_info is not None and not isinstance(result.exception, SystemExit):
            stderr += "".join(traceback.format_exception(*result.exc_info))
        answers.write(json.dumps({"code": result.exit_code, "stdout": result.stdout, "stderr": stderr}) + "\n")
        answers.flush()


if __name__ == "__main__":
    main()
