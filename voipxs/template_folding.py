"""Template loading that renders a template's fixed parts once per language instead of on every page.

A page's `{% translate "..." %}`, `{% url 'name' %}` and `{% static '...' %}` tags with literal arguments
give the same text on every request in the same language: Django still resolves each of them every time
(11-25 µs a tag; the call-history page has about 70 of them, most of its template time outside the rows).
`Loader` is Django's cached loader that, once per loaded template, replaces each run of such tags and the
text around them by one `FoldedNode`. A FoldedNode renders its original nodes the first time it meets a
new key and keeps the joined text for that key; the key holds everything their output depends on:

- the active language (translations; language-prefixed URLs),
- the URL configuration, script prefix and current application namespace (`{% url %}`),
- whether autoescaping is on,
- and it forgets them all when a setting changes (`setting_changed`: STATIC_URL, storages in tests).

A simple tag marked `per_language` is folded too, when it is used without arguments.
Nothing that depends on the request, the user or a context variable is folded: a tag with a variable,
a filter, `as var` or a context of its own (`{% translate ... context ... %}`) stays as it was.
"""
from __future__ import annotations

from typing import Any, Callable

from django.core.signals import setting_changed
from django.template.base import Node, NodeList, TextNode
from django.template.defaulttags import CommentNode, LoadNode, URLNode
from django.template.library import SimpleNode
from django.template.loaders import cached
from django.templatetags.i18n import TranslateNode
from django.templatetags.static import StaticNode
from django.urls import get_script_prefix, get_urlconf
from django.utils.translation import get_language

_generation = 0


def _settings_changed(**kwargs: Any) -> None:
    global _generation
    _generation += 1


setting_changed.connect(_settings_changed, dispatch_uid="voipxs.template_folding")


def per_language(function: Callable) -> Callable:
    """Marks the function of a simple tag whose output depends on the active language alone: used without
    arguments, it is folded like a `{% translate %}` (voipxs/templatetags/voipxs_languages.py)."""
    function.per_language = True
    return function


def _literal(expression: Any) -> bool:
    """A FilterExpression that is a constant: a quoted literal without filters."""
    return not expression.filters and not getattr(expression, "is_var", False)


def foldable(node: Any) -> bool:
    """A node whose output depends on nothing but the FoldedNode's key."""
    kind = type(node)
    if kind in (TextNode, CommentNode, LoadNode):
        return True
    if kind is TranslateNode:
        var = node.filter_expression.var
        return (node.asvar is None and node.message_context is None and not node.filter_expression.filters
                and getattr(var, "literal", None) is not None and not getattr(var, "lookups", None))
    if kind is URLNode:
        return node.asvar is None and not node.args and not node.kwargs and _literal(node.view_name)
    if kind is StaticNode:
        return node.varname is None and _literal(node.path)
    if kind is SimpleNode:
        return getattr(node.func, "per_language", False) and not node.args and not node.kwargs and not node.target_var
    return False


class FoldedNode(Node):
    """A run of foldable nodes, rendered once per key (see the module's docstring)."""

    child_nodelists = ()

    def __init__(self, nodes: list) -> None:
        self.nodes = tuple(nodes)
        self.token, self.origin = nodes[0].token, nodes[0].origin
        self.reverses = any(type(node) is URLNode for node in nodes)  # only then the URL parts of the key
        self.rendered: dict[tuple, str] = {}
        self.generation = _generation

    def __repr__(self) -> str:
        return f"<FoldedNode of {len(self.nodes)} nodes>"

    def render(self, context: Any) -> str:
        if self.generation != _generation:  # a setting changed: forget what was rendered under the old ones
            self.rendered, self.generation = {}, _generation
        key = (get_language(), context.autoescape)
        if self.reverses:  # as URLNode.render finds the current application
            request = getattr(context, "request", None)
            app = getattr(request, "current_app", None)
            if app is None:
                app = getattr(getattr(request, "resolver_match", None), "namespace", None)
            key += (get_urlconf(), get_script_prefix(), app)
        text = self.rendered.get(key)
        if text is None:
            text = self.rendered[key] = "".join(node.render_annotated(context) for node in self.nodes)
        return text


def fold(nodelist: NodeList) -> None:
    """Folds `nodelist` and every nodelist inside it, in place (blocks keep their NodeList objects)."""
    for node in nodelist:
        for attr in getattr(node, "child_nodelists", ()):
            inner = getattr(node, attr, None)
            if isinstance(inner, NodeList):
                fold(inner)
        for _condition, inner in getattr(node, "conditions_nodelists", ()):  # {% if %} / {% elif %} / {% else %}
            fold(inner)
    folded, run = [], []
    for node in [*nodelist, None]:
        if node is not None and foldable(node):
            run.append(node)
            continue
        if any(type(n) is not TextNode for n in run):  # text alone is as fast as it gets
            folded.append(FoldedNode(run))
        else:
            folded.extend(run)
        run = []
        if node is not None:
            folded.append(node)
    nodelist[:] = folded


class Loader(cached.Loader):
    """Django's cached template loader, folding each template once, when it is first loaded."""

    def get_template(self, template_name: str, skip: Any = None) -> Any:
        template = super().get_template(template_name, skip)
        if not getattr(template, "folded", False):
            fold(template.nodelist)
            template.folded = True
        return template
