"""The README's PyTorch example runs as written (its numbers are checked in test_structure.py)."""

import re
from pathlib import Path

import pytest

pytest.importorskip("torch")

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


def test_readme_pytorch_example_runs():
    code = re.search(r"## PyTorch models\n.*?```python\n(.*?)```", README, re.S).group(1)
    namespace = {}
    exec(compile(code, "README PyTorch models", "exec"), namespace)
    H = namespace["H"]
    assert H.layout.groups == (("0", 8, 33), ("2", 10, 9))
