"""Griffe extension: Sphinx roles in the docstrings become links on the documentation site.

The docstrings are numpydoc and cross-reference with Sphinx roles (``:class:`Planner```,
``:func:`~bayes_mmm.fit.fit```), which read well in a terminal and an editor but which
mkdocstrings would print as raw text. Once the package is loaded, each role becomes an
optional autorefs link to the object it names: the name is resolved in the scope of the
docstring's object (its module's imports and members, then its parents'), so ``Planner`` in
``bayes_mmm.optimize.mediated`` links to ``bayes_mmm.optimize.window.Planner``. A target that
no page documents renders as code without a link, so ``mkdocs build --strict`` stays clean.
A leading ``~`` shows only the last component, as in Sphinx.
"""

from __future__ import annotations

import html
import re
from typing import Any

from griffe import Extension, Module, Object

ROLE = re.compile(r":(?:py:)?(?:class|func|meth|mod|attr|data|obj|exc|const):`(?P<target>[^`]+)`")


def _identifier(obj: Object, target: str) -> str:
    """The full dotted path ``target`` names, seen from ``obj``'s scope (best effort)."""
    head, _, rest = target.partition(".")
    scopes = [obj, *([obj.parent] if obj.parent is not None else [])]
    for scope in scopes:
        try:
            base = scope.resolve(head)
        except Exception:  # griffe's NameResolutionError: not in this scope
            continue
        return f"{base}.{rest}" if rest else base
    return target


def _link(obj: Object, match: re.Match) -> str:
    target = match["target"].strip()
    short = target.startswith("~")
    target = target.lstrip("~").removesuffix("()")
    shown = target.rsplit(".", 1)[-1] if short else target
    ident = html.escape(_identifier(obj, target), quote=True)
    return f'<autoref identifier="{ident}" optional><code>{html.escape(shown)}</code></autoref>'


class SphinxRoles(Extension):
    """Rewrite Sphinx roles in every docstring of the package into optional autorefs."""

    def on_package(self, *, pkg: Module, **kwargs: Any) -> None:
        seen: set[int] = set()
        stack: list[Object] = [pkg]
        while stack:
            obj = stack.pop()
            if id(obj) in seen:
                continue
            seen.add(id(obj))
            if obj.docstring is not None and ":" in obj.docstring.value:
                obj.docstring.value = ROLE.sub(lambda m, o=obj: _link(o, m), obj.docstring.value)
            stack.extend(m for m in obj.members.values() if not m.is_alias)
