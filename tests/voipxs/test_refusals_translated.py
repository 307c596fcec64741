"""Every refusal a service raises (ApplicationError) has a Dutch translation in the compiled catalogue, and
`ApplicationError.shown()` gives it in the active language. The walk reads every `ApplicationError(...)` and
`ApplicationError.formatted(...)` in the apps and looks up the message it raises: a module's constant (marked
with gettext_noop where it is defined), a dict of them, or an inline literal. A message built in place (an
f-string, `+`, `%` or `.format()`) cannot be translated: it must go through `formatted()` instead."""
from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation
from django.utils.functional import Promise

from voipxs.exceptions import ApplicationError

APPS = ("accounts", "traffic", "disclosures", "retention", "voipxs")
# Built in place, from pieces Django already translated (a model's or a form's validation messages, the
# importer's line errors for the API): nothing of ours to look up.
BUILT_FROM_TRANSLATED = {
    ("accounts/services/billing_address.py", "f'{field}: {errors[field]}'"),
    ("traffic/services/tariffs.py", "f'{name}: {messages[0]}'"),
    ("traffic/api/tariffs.py", "f'Line {errors[0].line}: {errors[0].message}'"),
}
_PLACEHOLDER = re.compile(r"%\(\w+\)s")


def _sources():
    root = Path(settings.BASE_DIR)
    for app in APPS:
        for path in sorted((root / app).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path.relative_to(root).as_posix(), path


def _module(rel: str):
    return importlib.import_module(rel[:-3].replace("/", ".").removesuffix(".__init__"))


def _is_refusal(call: ast.Call) -> bool:
    func = call.func
    return bool(call.args) and (getattr(func, "id", None) == "ApplicationError" or (
        isinstance(func, ast.Attribute) and func.attr == "formatted"
        and getattr(func.value, "id", None) == "ApplicationError"))


def _messages(rel: str, arg: ast.expr):
    """The messages `arg` can raise, or None when it is a name local to a function (not looked at)."""
    if isinstance(arg, ast.Constant):
        return [arg.value]
    if isinstance(arg, ast.Call) and getattr(arg.func, "id", None) in ("gettext_noop", "_", "str") and arg.args:
        return _messages(rel, arg.args[0])
    if isinstance(arg, ast.Subscript):
        table = _messages(rel, arg.value)
        return None if table is None else [m for t in table for m in t.values()]
    if isinstance(arg, ast.Name):
        module = _module(rel)
        return [getattr(module, arg.id)] if hasattr(module, arg.id) else None
    return None


def _refusals():
    """(where, messages) for every refusal; a message built in place is reported as where, None."""
    found, built = [], []
    for rel, path in _sources():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and _is_refusal(node)):
                continue
            arg, where = node.args[0], f"{rel}:{node.lineno}"
            if isinstance(arg, (ast.JoinedStr, ast.BinOp)) or (
                    isinstance(arg, ast.Call) and getattr(arg.func, "attr", None) == "format"):
                if (rel, ast.unparse(arg)) not in BUILT_FROM_TRANSLATED:
                    built.append(f"{where}: {ast.unparse(arg)[:80]}")
                continue
            messages = _messages(rel, arg)
            if messages is not None:
                found.append((where, messages))
    return found, built


REFUSALS, BUILT_IN_PLACE = _refusals()


def test_the_walk_found_the_services_refusals():
    places = {where.split(":")[0] for where, _messages in REFUSALS}
    assert len(REFUSALS) > 200
    assert {"accounts/dsr/services.py", "retention/services.py", "traffic/services/invoices.py",
            "disclosures/services/intake.py", "accounts/ciot/services.py"} <= places


def test_no_refusal_is_built_in_place():
    assert not BUILT_IN_PLACE, ("build these with ApplicationError.formatted(MSGID, params, ...) so the page can "
                                "translate them:\n" + "\n".join(BUILT_IN_PLACE))


def test_every_refusal_has_a_dutch_translation():
    missing = []
    for where, messages in REFUSALS:
        for message in messages:
            if isinstance(message, Promise):  # gettext_lazy: translated when raised, look at both languages
                with translation.override("en"):
                    english = str(message)
                with translation.override("nl"):
                    dutch = str(message)
            else:
                english = message
                with translation.override("nl"):
                    dutch = translation.gettext(message)
            if dutch == english or sorted(_PLACEHOLDER.findall(dutch)) != sorted(_PLACEHOLDER.findall(english)):
                missing.append(f"{where}: {english[:90]!r}")
    assert not missing, f"{len(missing)} refusals without a Dutch translation:\n" + "\n".join(missing)


class ShownTests:
    def test_it_translates_the_message_into_the_active_language(self):
        refusal = ApplicationError("This request is no longer open.")
        with translation.override("nl"):
            assert refusal.shown() == "Dit verzoek staat niet meer open."
        with translation.override("en"):
            assert refusal.shown() == "This request is no longer open."

    def test_a_message_with_placeholders_is_translated_then_filled(self):
        refusal = ApplicationError.formatted("This customer already has an open request of this kind: #%(number)s.",
                                             {"number": 41}, field="kind")
        assert refusal.message == "This customer already has an open request of this kind: #41."  # logs: English
        assert refusal.extra["field"] == "kind"
        with translation.override("nl"):
            assert refusal.shown() == "Deze klant heeft al een openstaand verzoek van deze soort: #41."

    def test_a_message_the_catalogue_lacks_is_shown_as_it_is(self):
        with translation.override("nl"):
            assert ApplicationError("Unlisted refusal.").shown() == "Unlisted refusal."

    def test_it_goes_to_the_field_it_names_or_to_the_whole_form(self):
        from django import forms

        class Form(forms.Form):
            kind = forms.CharField()

        for field, expected in (("kind", "kind"), ("password", "__all__"), (None, "__all__")):
            form = Form({"kind": "x"})
            assert form.is_valid()
            with translation.override("nl"):
                ApplicationError("This request is no longer open.", {"field": field} if field else None).add_to(form)
            assert form.errors == {expected: ["Dit verzoek staat niet meer open."]}

