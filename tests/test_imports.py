"""The import contract that keeps the layout honest, checked two ways: what each module's source
imports (every import statement, including those inside functions), and what importing it
really loads in a fresh interpreter.

- nothing under playground/ imports streamlit;
- playground.core needs only torch and torchvision: no plotly, pandas or other playground package;
- playground.digits and playground.lessons import nothing from playground.hosting;
- importing any module starts no process and reads no hosting setting.
"""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from tests.harness import ROOT

PACKAGE = ROOT / "playground"
UI_LIBRARIES = {"streamlit", "streamlit_drawable_canvas"}
# What each sub-package may not import, besides the UI libraries.
FORBIDDEN = {
    "core": {
        "plotly",
        "pandas",
        "playground.hosting",
        "playground.digits",
        "playground.lessons",
        "playground.figures",
        "playground.bench",
        "playground.export",
    },
    "digits": {"playground.hosting"},
    "lessons": {"playground.hosting"},
    "figures": {"playground.hosting"},
}


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = sorted(_module_name(p) for p in PACKAGE.rglob("*.py"))


def _imports(path: Path) -> set[str]:
    """Every module named by an import statement anywhere in the file."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def _violations(imported: set[str], forbidden: set[str]) -> list[str]:
    return sorted(name for name in imported if any(name == f or name.startswith(f + ".") for f in forbidden))


def test_the_layout_has_its_sub_packages():
    for package in ("core", "hosting", "digits", "lessons", "figures"):
        assert (PACKAGE / package / "__init__.py").is_file(), package
    assert len(MODULES) > 20


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(p.relative_to(ROOT)))
def test_source_follows_the_contract(path):
    sub_package = path.relative_to(PACKAGE).parts[0] if path.parent != PACKAGE else None
    forbidden = UI_LIBRARIES | FORBIDDEN.get(sub_package, set())
    assert _violations(_imports(path), forbidden) == []


def test_the_contract_check_catches_a_violation(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from playground.hosting import shared\n    import plotly.express\n")
    assert _violations(_imports(bad), FORBIDDEN["core"]) == [
        "playground.hosting",
        "playground.hosting.shared",
        "plotly.express",
    ]


def _run(code: str, env: dict | None = None) -> str:
    import os

    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_core_loads_only_torch_and_torchvision():
    loaded = _run(
        "import sys, importlib\n"
        f"for m in {[m for m in MODULES if m.startswith('playground.core')]!r}: importlib.import_module(m)\n"
        "print(' '.join(sorted({m.split('.')[0] for m in sys.modules} | "
        "{m for m in sys.modules if m.startswith('playground.')})))\n"
    ).split()
    assert {"torch", "torchvision"} <= set(loaded)
    assert not {"plotly", "pandas", "streamlit"} & set(loaded)
    assert [m for m in loaded if m.startswith("playground.") and not m.startswith("playground.core")] == []


def test_no_module_imports_streamlit_and_none_starts_anything_at_import():
    """Every module of every sub-package, imported with a hosting variable that would make the
    hosting settings fail: nothing reads it, no process starts, streamlit stays unloaded."""
    out = _run(
        "import importlib, multiprocessing, sys\n"
        f"for m in {MODULES!r}: importlib.import_module(m)\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('streamlit', 'streamlit_drawable_canvas')]\n"
        "assert not bad, bad\n"
        "assert multiprocessing.active_children() == []\n"
        "print('ok')\n",
        env={"PLAYGROUND_MAX_RUNS_CPU": "not-a-number"},
    )
    assert out == "ok"


def test_the_drawing_code_needs_no_hosting():
    out = _run(
        "import sys\n"
        "import playground.digits.predict, playground.digits.robustness, playground.lessons.gpu_ops\n"
        "print(sorted(m for m in sys.modules if m.startswith('playground.hosting')))\n",
        env={"PLAYGROUND_MAX_RUNS_CPU": "not-a-number"},
    )
    assert out == "[]"
