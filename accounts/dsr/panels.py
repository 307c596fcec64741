"""What higher apps add to the DPO's page of a request (`views.dpo_request`): accounts sits below them and never
imports them (DESIGN.md), so each registers a panel in its AppConfig.ready(). A panel names the request kinds
it is for, its template and the function that gives the template its context; that function reads through its
own app's selectors, which check the purpose and record the access.

traffic registers the notes on the requester's calls for a rectification request (traffic/views/annotations.py):
a call is never changed, what the customer states about it is attached to it.

Nothing here imports a model: traffic imports this module while the apps are still loading.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable


@dataclass(frozen=True)
class RequestPanel:
    name: str
    kinds: frozenset[str]  # DataSubjectRequest.Kind values
    template: str  # rendered with `panel`: the context below, plus "template"
    context: Callable[..., dict]  # context(*, actor, req, params) -> dict; params: the page's query (GET)


_panels: dict[str, RequestPanel] = {}


def register_request_panel(panel: RequestPanel) -> None:
    _panels[panel.name] = panel


def request_panels(*, actor: Any, req: Any, params: Any) -> list[dict]:
    """The panels for `req`'s kind, each its template and context, in the order they were registered."""
    return [{"template": panel.template, **panel.context(actor=actor, req=req, params=params)}
            for panel in _panels.values() if req.kind in panel.kinds]
