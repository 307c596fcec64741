"""Imports only point down: voipxs <- accounts <- traffic <- retention <- disclosures (DESIGN.md); the
privacy kernel (voipxs/privacy/) imports no app and nothing of the project package around it; and an
app reaches another app at module level, where a reader sees it, never from inside a function."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
APPS = ["voipxs", "accounts", "traffic", "retention", "disclosures"]
# What each app may import of ours (itself always). retention does not import disclosures.
ALLOWED = {
    "voipxs": set(),
    "accounts": {"voipxs"},
    "traffic": {"accounts", "voipxs"},
    "retention": {"traffic", "accounts", "voipxs"},
    "disclosures": {"retention", "traffic", "accounts", "voipxs"},
}


def imported_apps(path: Path, app: str, root: Path) -> set[tuple[str, int]]:
    """(our app, line) for every import in the file, relative imports resolved within the app."""
    found: set[tuple[str, int]] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: stays inside the package unless it climbs out of it
                depth = len(path.relative_to(root / app).parts) - 1
                names = [app] if node.level <= depth + 1 else [node.module or ""]
            else:
                names = [node.module or ""]
        elif isinstance(node, ast.Call) and getattr(node.func, "id", "") in {"__import__", "import_module"}:
            if node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
                names = [node.args[0].value]
        for name in names:
            top = name.split(".")[0]
            if top in APPS:
                found.add((top, node.lineno))
    return found


def violations(app: str, root: Path = ROOT) -> list[str]:
    problems = []
    for path in sorted((root / app).rglob("*.py")):
        for top, line in sorted(imported_apps(path, app, root), key=lambda t: t[1]):
            if top != app and top not in ALLOWED[app]:
                problems.append(f"{path.relative_to(root)}:{line} imports {top}")
    return problems


class ImportDirectionTests:
    @pytest.mark.parametrize("app", APPS)
    def test_it_finds_only_downward_imports(self, app):
        assert violations(app) == []

    def test_it_catches_an_upward_import(self, tmp_path):
        # The checker itself must be able to fail: a file in voipxs that imports three apps above it.
        (tmp_path / "voipxs" / "sub").mkdir(parents=True)
        (tmp_path / "voipxs" / "sub" / "bad.py").write_text(
            "from accounts.models import User\nimport traffic.keys\nfrom . import crypto\n"
            "x = __import__('disclosures')\n"
        )
        assert violations("voipxs", root=tmp_path) == [
            "voipxs/sub/bad.py:1 imports accounts",
            "voipxs/sub/bad.py:2 imports traffic",
            "voipxs/sub/bad.py:4 imports disclosures",
        ]

    def test_it_sees_every_app_package(self):
        for app in APPS:
            assert (ROOT / app / "__init__.py").exists()
            assert (ROOT / app / "apps.py").exists()


# --- the privacy kernel ---------------------------------------------------------------------------------

def kernel_violations(root: Path = ROOT) -> list[str]:
    """Imports in voipxs/privacy/ of anything of ours outside voipxs/privacy/ (apps or the project package)."""
    problems = []
    kernel = root / "voipxs" / "privacy"
    for path in sorted(kernel.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    depth = len(path.relative_to(kernel).parts) - 1
                    names = [] if node.level <= depth + 1 else [f"voipxs.{node.module or ''}"]
                else:
                    names = [node.module or ""]
            else:
                continue
            for name in names:
                if name.split(".")[0] in APPS and not name.startswith("voipxs.privacy"):
                    problems.append(f"{path.relative_to(root)}:{node.lineno} imports {name}")
    return problems


# --- function-level imports across apps --------------------------------------------------------------------

def lazy_cross_app_imports(app: str, root: Path = ROOT) -> list[str]:
    """Imports of another app of ours inside a function or method body. Allowed: none. (The one lazy pair
    the design keeps, a services module importing its own app's tasks, stays inside one app.)"""
    problems = []
    for path in sorted((root / app).rglob("*.py")):
        if "migrations" in path.parts:
            continue  # migrations copy what they need (STYLE_GUIDE) and import models through `apps`
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for func in ast.walk(tree):
            if not isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(func):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and not node.level:
                    names = [node.module or ""]
                else:
                    continue
                for name in names:
                    top = name.split(".")[0]
                    if top in APPS and top != app:
                        problems.append(f"{path.relative_to(root)}:{node.lineno} imports {name} in {func.name}()")
    return problems


class KernelAndLazyImportTests:
    def test_the_privacy_kernel_imports_no_app_and_nothing_around_it(self):
        assert kernel_violations() == []

    def test_the_kernel_check_can_fail(self, tmp_path):
        (tmp_path / "voipxs" / "privacy").mkdir(parents=True)
        (tmp_path / "voipxs" / "privacy" / "bad.py").write_text(
            "from voipxs.exceptions import ApplicationError\nfrom .. import views\nfrom . import crypto\n"
            "import accounts.models\n")
        assert kernel_violations(root=tmp_path) == [
            "voipxs/privacy/bad.py:1 imports voipxs.exceptions",
            "voipxs/privacy/bad.py:2 imports voipxs.",
            "voipxs/privacy/bad.py:4 imports accounts.models",
        ]

    @pytest.mark.parametrize("app", APPS)
    def test_no_app_imports_another_from_inside_a_function(self, app):
        assert lazy_cross_app_imports(app) == []

    def test_the_lazy_import_check_can_fail(self, tmp_path):
        (tmp_path / "traffic" / "services").mkdir(parents=True)
        (tmp_path / "traffic" / "services" / "x.py").write_text(
            "from accounts.models import User\n\n"
            "def f():\n    from accounts import services\n    from . import tasks\n    from traffic import tasks\n"
            "    return services, tasks\n")
        assert lazy_cross_app_imports("traffic", root=tmp_path) == [
            "traffic/services/x.py:4 imports accounts in f()",
        ]
