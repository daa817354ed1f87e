"""Payload dataclasses: everything the templates show, already computed and formatted.

Templates only loop over these and print fields; no numbers are computed in them.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Headline:
    """One business question, its answer and the answer's interval."""

    question: str
    answer: str
    interval: str


@dataclass(frozen=True)
class Table:
    """A table of preformatted strings. ``flags`` marks rows to highlight (same length)."""

    title: str
    columns: list[str]
    rows: list[list[str]]
    flags: list[bool] = field(default_factory=list)


@dataclass(frozen=True)
class Image:
    """An inlined figure: ``src`` is a ``data:image/png;base64,...`` URI."""

    title: str
    src: str
    caption: str = ""


@dataclass(frozen=True)
class Section:
    """A report section: an intro paragraph, tables, figures, and preformatted text."""

    anchor: str
    title: str
    intro: str = ""
    tables: list[Table] = field(default_factory=list)
    images: list[Image] = field(default_factory=list)
    code: str = ""


@dataclass(frozen=True)
class Verdict:
    """The convergence verdict: ``css`` is "pass" (green) or "fail" (red)."""

    css: str
    title: str
    intro: str
    gates: Table
    worst: Table


@dataclass(frozen=True)
class Payload:
    """The whole report."""

    title: str
    subtitle: str
    interval_note: str
    headlines_title: str
    headlines: list[Headline]
    verdict_title: str
    verdict: Verdict
    sections: list[Section]
    footer: str
