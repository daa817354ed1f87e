"""Progress bars for slow work: the optimizer's starts, ``fit_many`` and the report build.

One switch, one rule. ``progress=None`` (the default everywhere) shows a bar only where a
person watches: a terminal (stderr is a TTY) or a Jupyter notebook, and never when the
``CI`` environment variable is set, so CI logs stay free of carriage-return noise.
``progress=True`` forces a bar and ``progress=False`` silences it. Bars come from
``tqdm.auto``, which renders a widget in notebooks and text in terminals.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator, Sized
from contextlib import contextmanager
from typing import Any

__all__ = ["bar", "enabled", "iterate"]


def _in_notebook() -> bool:
    shell = sys.modules.get("IPython")
    if shell is None:
        return False
    ip = shell.get_ipython() if hasattr(shell, "get_ipython") else None
    return ip is not None and type(ip).__name__ == "ZMQInteractiveShell"


def enabled(progress: bool | None = None) -> bool:
    """Whether to show a bar.

    Parameters
    ----------
    progress : bool or None
        True or False decide; None shows one in a terminal or notebook, not under ``CI``.
    """
    if progress is not None:
        return bool(progress)
    if os.environ.get("CI"):
        return False
    return _in_notebook() or bool(getattr(sys.stderr, "isatty", lambda: False)())


@contextmanager
def bar(total: int | None, desc: str, progress: bool | None = None) -> Iterator[Any]:
    """A bar to ``update(n)`` by hand, or a no-op object with the same methods.

    Parameters
    ----------
    total : int or None
        The number of steps (None: unknown).
    desc : str
        The label shown before the bar.
    progress : bool or None
        See :func:`enabled`.
    """
    if not enabled(progress):
        yield _Silent()
        return
    from tqdm.auto import tqdm

    with tqdm(total=total, desc=desc, leave=False, dynamic_ncols=True) as b:
        yield b


def iterate[T](
    items: Iterable[T], desc: str, progress: bool | None = None, total: int | None = None
) -> Iterator[T]:
    """Yield ``items`` while a bar counts them (see :func:`enabled` for when it shows).

    ``total`` defaults to ``len(items)`` where the items have a length.
    """
    if total is None and isinstance(items, Sized):
        total = len(items)
    with bar(total, desc, progress) as b:
        for item in items:
            yield item
            b.update(1)


class _Silent:
    """Stands in for a tqdm bar when none is shown."""

    def update(self, n: int = 1) -> None:
        """Ignore a step."""

    def set_postfix_str(self, s: str = "", refresh: bool = True) -> None:
        """Ignore a status line."""
