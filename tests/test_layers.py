"""The layers of the package, checked by import-linter from the imports themselves (pyproject.toml has
the contracts): stages import only the stages below them, prepare does no I/O, the simulator imports
nothing else, the client never imports the simulator, and nothing imports the command line."""

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_import_contracts_are_kept():
    tool = shutil.which("lint-imports") or str(Path(sys.executable).with_name("lint-imports"))
    result = subprocess.run([tool, "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "Contracts: 5 kept, 0 broken." in result.stdout
