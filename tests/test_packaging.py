"""The installable package: a (non-editable) wheel carries every module of modeling_emosphere."""

import subprocess
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_wheel_carries_every_module_including_training_and_the_ccc_metric(tmp_path):
    command = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", str(REPO), "-w", str(tmp_path)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    (wheel,) = tmp_path.glob("emosphere-*.whl")
    in_wheel = {name for name in zipfile.ZipFile(wheel).namelist() if name.endswith(".py")}
    in_repo = {path.relative_to(REPO).as_posix() for path in (REPO / "modeling_emosphere").rglob("*.py")}
    assert in_repo - in_wheel == set()
    assert "modeling_emosphere/training/metrics/ccc/ccc.py" in in_wheel
