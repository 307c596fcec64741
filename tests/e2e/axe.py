"""axe-core in the browser tests: the vendored, pinned copy (tests/e2e/vendor/axe-core/VERSION.md) is
checked against its sha256 and run in the page; `serious_violations` returns what would fail a test.

The site's CSP (script-src 'self') refuses an injected <script>, so the contexts that run axe are
opened with bypass_csp=True; the page's own scripts still run under the CSP the server sends.
"""
from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

AXE_FILE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
AXE_SHA256 = "29348999450cdf2849a8e70b7912fc2da85a849da39c0d0d5394f51d4a9ed95c"  # axe-core 4.14.1
FAILING_IMPACTS = ("serious", "critical")

_RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ['violations']});
  return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                      nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
}"""


@cache
def axe_source() -> str:
    data = AXE_FILE.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != AXE_SHA256:
        raise AssertionError(f"{AXE_FILE} is not the pinned axe-core (sha256 {digest}); see VERSION.md")
    return data.decode("utf-8")


def serious_violations(page) -> list[dict]:
    """axe's violations of impact serious or critical on the page as it is now."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(content=axe_source())
    return [v for v in page.evaluate(_RUN) if v["impact"] in FAILING_IMPACTS]
