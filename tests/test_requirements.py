"""What production installs (requirements.txt) is all the app imports, and nothing the tests alone need
(requirements-test.txt)."""
import ast
import importlib.metadata
import os
import re
import sys

ROOT = os.path.join(os.path.dirname(__file__), "..")


def _pins(name: str) -> set[str]:
    with open(os.path.join(ROOT, name), encoding="utf-8") as f:
        found = (re.match(r"([A-Za-z0-9_.\-]+)(\[[^\]]*\])?==", line) for line in f)
        return {m.group(1).lower().replace("_", "-") for m in found if m}


def _imported_top_levels(*dirs: str) -> set[str]:
    names = set()
    for d in dirs:
        for folder, _subdirs, files in os.walk(os.path.join(ROOT, d)):
            for file in files:
                if file.endswith(".py"):
                    with open(os.path.join(folder, file), encoding="utf-8") as f:
                        tree = ast.parse(f.read())
                    for node in ast.walk(tree):
                        if isinstance(node, ast.Import):
                            names |= {a.name.split(".")[0] for a in node.names}
                        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                            names.add(node.module.split(".")[0])
    return names


def test_production_pins_hold_what_the_app_imports_and_no_test_tool():
    prod, test = _pins("requirements.txt"), _pins("requirements-test.txt")
    assert not prod & test
    assert {"pytest", "playwright", "schemathesis", "hypothesis", "pytest-xdist"} <= test
    dists = importlib.metadata.packages_distributions()
    needed = set()
    for module in _imported_top_levels("evalapp", "migrations") | {"wsgi"}:
        if module in sys.stdlib_module_names or module in ("evalapp", "wsgi"):
            continue
        needed |= {d.lower().replace("_", "-") for d in dists.get(module, [module])}
    assert needed - prod == set()
