"""The pytest plugin as a user gets it: installed sgnet, a test file of their own, no
conftest: the README's example runs as written (needs root)."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]


@pytest.mark.kernel
def test_readme_example_runs_in_a_project_of_its_own(tmp_path):
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Kernel tests of your own groups (pytest)", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    assert "sgnet_lab" in code and len(code.strip().splitlines()) <= 6
    (tmp_path / "examples").mkdir()
    (tmp_path / "examples" / "webtier.yaml").write_text(
        (ROOT / "examples" / "webtier.yaml").read_text().replace("name: webtier", "name: tplug"))
    (tmp_path / "test_mine.py").write_text(code)
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                        "test_mine.py"], cwd=tmp_path, capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "1 passed" in r.stdout
