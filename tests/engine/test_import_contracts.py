"""The arrows of DESIGN.md and of engine/service's three layers, as `lint-imports` checks them
(contracts in pyproject.toml's ``[tool.importlinter]``), so `make test` fails when one breaks."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def test_every_import_contract_is_kept() -> None:
    run = subprocess.run([str(LINT_IMPORTS), "--no-cache"], cwd=ROOT, capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    assert f"Contracts: {len(contracts)} kept, 0 broken." in run.stdout


def test_a_broken_arrow_is_caught(tmp_path: Path) -> None:
    """The contracts bite: the same configuration over a copy of the service in which the state
    machine calls routing reports that contract broken."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    copy = tmp_path / "engine"
    subprocess.run(["cp", "-r", str(ROOT / "engine"), str(copy)], check=True)
    for name in ("knowledge", "handoff", "operator_ui", "eval"):
        (tmp_path / name).symlink_to(ROOT / name)
    conversations = copy / "service" / "conversations.py"
    conversations.write_text(conversations.read_text() + "\nfrom engine.service import routing  # noqa\n")
    contracts = "\n".join(
        f'[[tool.importlinter.contracts]]\nname = "{c["name"]}"\ntype = "{c["type"]}"\n'
        + "".join(f"{key} = {_toml(value)}\n" for key, value in c.items() if key not in ("name", "type"))
        for c in config["contracts"])
    (tmp_path / "setup.toml").write_text(
        f"[tool.importlinter]\nroot_packages = {_toml(config['root_packages'])}\n"
        f"include_external_packages = true\n{contracts}")
    run = subprocess.run([str(LINT_IMPORTS), "--no-cache", "--config", "setup.toml"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=300, env={"PYTHONPATH": str(tmp_path)})
    assert run.returncode == 1, run.stdout[-3000:]
    assert "state changes never call routing or the workflow's reactions BROKEN" in run.stdout
    assert "engine.service.conversations is not allowed to import engine.service.routing" in run.stdout


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return f'"{value}"'
