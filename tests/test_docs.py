"""The manual is complete: every command, option and job parameter is documented in docs/, and the README stays
a short start (at most 250 lines) whose links all resolve."""

import argparse
import re
from pathlib import Path

from pardot_frames import ExportConfig
from pardot_frames.cli.main import build_parser

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


def _commands(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()):
    """(command path, its long options) for every command and subcommand."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                options = sorted(
                    o for a in sub._actions for o in a.option_strings if o.startswith("--") and o != "--help"
                )
                yield (*path, name), options
                yield from _commands(sub, (*path, name))


def test_every_command_and_option_is_in_the_manual():
    text = (DOCS / "commands.md").read_text(encoding="utf-8")
    missing = []
    for path, options in _commands(build_parser()):
        if f"pardot-frames {' '.join(path)}" not in text:
            missing.append(f"command: pardot-frames {' '.join(path)}")
        missing += [f"option: pardot-frames {' '.join(path)} {o}" for o in options if not re.search(rf"{o}\b", text)]
    assert missing == []


def test_every_job_parameter_is_in_the_manual():
    text = (DOCS / "parameters.md").read_text(encoding="utf-8")
    assert [k for k in ExportConfig.model_fields if f"`{k}`" not in text] == []


def test_the_readme_is_a_short_start_whose_links_resolve():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 250
    links = re.findall(r"\]\(([^)#]+)\)", readme)
    assert links and [link for link in links if not (ROOT / link).exists()] == []
    for needle in ("batching", "upsert", "journal", "v5_imports"):  # a newcomer finds these from the layout alone
        assert needle in readme.split("## Layout")[1]


def test_every_fact_sheet_the_code_cites_is_explained():
    cited = set()
    for path in (ROOT / "pardot_frames").rglob("*.py"):
        cited |= set(
            re.findall(r"\b((?:pardot-)?(?:api-facts|import-api|v5-objects|export-api)\.md)", path.read_text())
        )
    explained = (DOCS / "facts.md").read_text(encoding="utf-8")
    assert cited and [name for name in sorted(cited) if f"`{name}`" not in explained and name not in explained] == []
