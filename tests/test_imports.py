import subprocess
import sys


def test_engine_imports_without_streamlit():
    """The engine runs where streamlit is absent (the GPU machine, the CLI): importing every
    playground module must not import streamlit."""
    code = (
        "import pkgutil, importlib, sys, playground\n"
        "for m in pkgutil.iter_modules(playground.__path__):\n"
        "    importlib.import_module('playground.' + m.name)\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('streamlit', 'streamlit_drawable_canvas')]\n"
        "assert not bad, bad\n"
        "print('ok')\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.stdout.strip() == "ok", result.stderr
