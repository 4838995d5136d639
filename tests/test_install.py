"""thinka as an office installs it: a regular (non-editable) wheel in a fresh environment, used outside any checkout.

The temporary environment reuses the test environment's installed dependencies (a .pth file adds that site-packages
folder as a plain path, so the checkout's editable thinka is not seen); only thinka itself comes from the wheel.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from conftest import write_synthetic_instruments

from thinka.paths import PhasePaths

REPO = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


def _run(*cmd, cwd: Path, env=None) -> subprocess.CompletedProcess:
    return subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """bin/ of a fresh environment with thinka installed from a wheel built from this checkout."""
    tmp = tmp_path_factory.mktemp("wheel")
    built = _run(sys.executable, "-m", "pip", "wheel", REPO, "--no-deps", "-q", "-w", tmp / "dist", cwd=tmp)
    assert built.returncode == 0, built.stderr[-3000:]
    _run(sys.executable, "-m", "venv", "--without-pip", tmp / "venv", cwd=tmp).check_returncode()
    python = tmp / "venv" / "bin" / "python"
    purelib = _run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=tmp).stdout.strip()
    Path(purelib, "_test_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    wheel = next((tmp / "dist").glob("thinka-*.whl"))
    done = _run(sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "-q", wheel, cwd=tmp)
    assert done.returncode == 0, done.stderr[-3000:]
    return tmp / "venv" / "bin"


def test_the_wheel_is_a_regular_install(installed, tmp_path):
    where = _run(installed / "python", "-c", "import thinka; print(thinka.__file__)", cwd=tmp_path).stdout
    assert "site-packages" in where and str(REPO) not in where


def test_init_add_data_build_outside_the_checkout(installed, tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("THINKA_ROOT", "PYTHONPATH")}
    # The reused dependencies' data files (nbconvert's templates) live under this environment's share/jupyter,
    # where a real install of the dependencies into the new environment would have put them.
    env["JUPYTER_PATH"] = str(Path(sys.prefix) / "share" / "jupyter")
    lost = _run(installed / "thinka", "validate", cwd=tmp_path, env=env)
    assert lost.returncode == 2 and "No thinka project found" in lost.stderr and "thinka init" in lost.stderr
    assert _run(installed / "thinka", "init", "office", "--phase", "2025-2026", cwd=tmp_path, env=env).returncode == 0
    project = tmp_path / "office"
    write_synthetic_instruments(PhasePaths(project, "2025-2026"), rows=40)
    built = _run(installed / "thinka", "build", "--no-pdf", "--no-progress", cwd=project / "data", env=env)
    assert built.returncode == 0, built.stdout + built.stderr
    report = project / "report" / "2025-2026"
    assert (report / "datenreport.html").is_file() and (report / "standorte" / "S01.html").is_file()
    assert not (project / "notebooks").exists()  # notebooks generated from the codebook did the work
    assert (project / "build" / "2025-2026" / "notebooks").is_dir()
