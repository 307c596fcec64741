"""The switch adapter a deployment uses, named by CALL_SETUP_BACKEND."""
from __future__ import annotations

from django.conf import settings

from .ami import AmiAdapter
from .base import SwitchAdapter, SwitchUnavailable, switch_config
from .esl import EslAdapter

ADAPTERS = {"asterisk": AmiAdapter, "freeswitch": EslAdapter}


def switch_adapter() -> SwitchAdapter:
    """The adapter CALL_SETUP_BACKEND names ("asterisk", "freeswitch"); SwitchUnavailable("off") without one."""
    backend = (settings.CALL_SETUP_BACKEND or "").strip().lower()
    if backend not in ADAPTERS:
        raise SwitchUnavailable("off", "no call set-up backend configured")
    return ADAPTERS[backend](switch_config())
