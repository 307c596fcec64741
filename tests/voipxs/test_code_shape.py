"""Sizes a newcomer can read: no module over 400 lines and no function over 60 lines in the apps and
the project package (migrations aside). An exception is named here with its reason AND in the README's
"Code map", so it is a decision someone can read, not an accident; an exception that no longer exceeds
its limit must leave both lists."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ["voipxs", "accounts", "traffic", "retention", "disclosures"]
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60

# "path" or "path::function": why it stays whole. Each is named in README.md's Code map too.
EXCEPTIONS: dict[str, str] = {
    "voipxs/settings.py": "one settings module by design (STYLE_GUIDE 4), grouped and commented, read top to bottom",
}


def _sources(root: Path = ROOT):
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path


def oversized(root: Path = ROOT) -> list[str]:
    found = []
    for path in _sources(root):
        name = str(path.relative_to(root))
        text = path.read_text(encoding="utf-8")
        lines = len(text.splitlines())
        if lines > MAX_MODULE_LINES:
            found.append(f"{name} ({lines} lines)")
        for node in ast.walk(ast.parse(text, filename=name)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = node.end_lineno - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    found.append(f"{name}::{node.name} ({length} lines)")
    return found


def _key(entry: str) -> str:
    return entry.rsplit(" (", 1)[0]


class CodeShapeTests:
    def test_no_module_or_function_is_over_its_limit_unless_named(self):
        assert [e for e in oversized() if _key(e) not in EXCEPTIONS] == []

    def test_every_named_exception_still_needs_to_be(self):
        current = {_key(e) for e in oversized()}
        assert [name for name in EXCEPTIONS if name not in current] == []

    def test_every_exception_is_named_in_the_readme_code_map(self):
        readme = (ROOT / "README.md").read_text(encoding="utf-8")
        code_map = readme.split("## Code map", 1)[1].split("\n## ", 1)[0]
        assert [name for name in EXCEPTIONS if f"`{name}`" not in code_map] == []

    def test_the_check_can_fail(self, tmp_path):
        (tmp_path / "traffic").mkdir()
        body = "\n".join(f"    x{i} = {i}" for i in range(61))
        (tmp_path / "traffic" / "big.py").write_text(f"def long():\n{body}\n" + "\n" * 340)
        assert oversized(root=tmp_path) == ["traffic/big.py (402 lines)", "traffic/big.py::long (62 lines)"]
