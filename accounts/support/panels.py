"""What higher apps add to the support desk's card of a customer (`views.customer`): accounts sits below them and
never imports them (DESIGN.md), so each registers a panel in its AppConfig.ready(), as on the DPO's request page
(accounts/dsr/panels.py). A panel's context function reads through its own app's selectors, which check the purpose
(CUSTOMER_SUPPORT) and record the access.

traffic registers the customer's recent click-to-call set-ups (traffic/views/call_setup.py).

Nothing here imports a model: traffic imports this module while the apps are still loading.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable


@dataclass(frozen=True)
class CustomerPanel:
    name: str
    template: str  # rendered with `panel`: the context below, plus "template"
    context: Callable[..., dict]  # context(*, actor, user) -> dict; user: the customer support found


_panels: dict[str, CustomerPanel] = {}


def register_customer_panel(panel: CustomerPanel) -> None:
    _panels[panel.name] = panel


def customer_panels(*, actor: Any, user: Any) -> list[dict]:
    """Each registered panel's template and context for `user`'s card, in the order they were registered."""
    return [{"template": panel.template, **panel.context(actor=actor, user=user)} for panel in _panels.values()]
