import pytest

from pardot_frames import ExportConfig
from pardot_frames.errors import PardotFramesWarning
from pardot_frames.simulator import Simulator


@pytest.fixture(autouse=True)
def private_state(tmp_path, monkeypatch):
    """Journals and saved credentials of every test go to its own folder, never the user's."""
    monkeypatch.setenv("PARDOT_FRAMES_STATE", str(tmp_path / "state"))
    monkeypatch.setenv("PARDOT_FRAMES_HOME", str(tmp_path / "home"))
    # each test's jobs share calls in flight among themselves only: tests run side by side (pytest -n 2)
    monkeypatch.setenv("PARDOT_FRAMES_SLOTS", str(tmp_path / "slots"))


@pytest.fixture
def sim():
    """A simulator serving from its own thread, so the sync export API can reach it."""
    with Simulator().run_in_thread() as running:
        yield running


def job(sim, **overrides) -> ExportConfig:
    """A job pointed at the simulator, with retry waits short enough for tests."""
    settings = dict(initial_retry_wait=0.01, maximum_retry_wait=0.05, maximum_connection_timeout=10)
    return ExportConfig(**{**sim.credentials, **settings, **overrides})


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """A test marked ``email_alone`` sends rows that name their prospect by email alone: the warning it must get
    is asserted (any other warning is still an error). Marked with parameter ids, only those cases are."""
    mark = item.get_closest_marker("email_alone")
    case = getattr(getattr(item, "callspec", None), "id", None)
    if mark is None or (mark.args and case not in mark.args):
        return (yield)
    with pytest.warns(PardotFramesWarning, match="name their prospect by email alone"):
        return (yield)


LONGEST = ("tests/test_types.py", "tests/test_notebook.py")  # a type check over the package, a notebook run


def pytest_collection_modifyitems(items):
    """The longest tests go first, so the two workers finish together (last, one of them runs alone for ~20 s)."""
    items.sort(key=lambda item: not item.nodeid.startswith(LONGEST))
