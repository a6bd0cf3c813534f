"""The quickstart notebook runs top to bottom (so it cannot rot) and is committed without outputs."""

from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "quickstart.ipynb"


def test_notebook_is_committed_clean():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(not c.outputs and c.execution_count is None for c in code)


def test_notebook_executes(tmp_path):
    import os

    nb = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(
        nb, timeout=180, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOK.parent)}}
    ).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "".join(o.get("text", "") for o in outputs)
    assert "Pardot holds" in text and "on the Newsletter list" in text
    charts = [o for o in outputs if "vegaEmbed" in o.get("data", {}).get("text/html", "")]
    assert len(charts) == 3  # outcomes, the calls of the two incremental runs, the verify by column
    assert "changed rows sent in" in text
    assert "the verify found 20 mismatched" in text  # 1% of 2,000 rows: the silently dropped tier values
    assert "1,500 activities read; 300 prospects scored; 0 mismatches" in text  # read, scored, sent back
    user_state = Path(os.environ["PARDOT_FRAMES_STATE"])  # the "user's" folder for this test (conftest)
    assert not user_state.exists() or not any(user_state.rglob("*.duckdb"))  # the notebook keeps its own
