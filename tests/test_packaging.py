"""The installable package: a (non-editable) wheel carries every module of modeling_emosphere."""

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_wheel_carries_every_module_including_training_and_the_ccc_metric(tmp_path):
    # built from a copy of the sources, so that no build/ folder is left in (or reused from) the checkout
    source = tmp_path / "source"
    shutil.copytree(REPO / "modeling_emosphere", source / "modeling_emosphere", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    command = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", str(source), "-w", str(tmp_path)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    (wheel,) = tmp_path.glob("emosphere-*.whl")
    in_wheel = {name for name in zipfile.ZipFile(wheel).namelist() if name.endswith(".py")}
    in_repo = {path.relative_to(REPO).as_posix() for path in (REPO / "modeling_emosphere").rglob("*.py")}
    assert in_repo - in_wheel == set()
    assert "modeling_emosphere/training/metrics/ccc/ccc.py" in in_wheel
