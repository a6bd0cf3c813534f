import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(
    shutil.which("ruff") is None and not Path(sys.executable).with_name("ruff").exists(), reason="ruff not installed"
)
def test_ruff_check_is_clean():
    ruff = shutil.which("ruff") or str(Path(sys.executable).with_name("ruff"))
    result = subprocess.run([ruff, "check", str(ROOT)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_simulator_and_client_never_import_each_other():
    import re

    sim = ROOT / "pardot_frames" / "simulator"
    for path in sim.glob("*.py"):
        imports = re.findall(r"^\s*(?:from|import)\s+(\S+)", path.read_text(), re.M)
        assert not [
            m for m in imports if m.startswith("..") or (m.startswith("pardot_frames") and "simulator" not in m)
        ], path
    for path in (ROOT / "pardot_frames").glob("*.py"):
        if path.name in ("cli.py", "demo.py"):
            continue  # the command line and the demo start the simulator beside the client
        imports = re.findall(r"^\s*(?:from|import)\s+(\S+)", path.read_text(), re.M)
        assert not [m for m in imports if "simulator" in m], path
