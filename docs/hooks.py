"""MkDocs hooks: the tutorials and benchmark reports come from the repository, not copies.

``notebooks/*.ipynb`` appear as ``tutorials/<name>.ipynb`` (rendered by mkdocs-jupyter
with their stored outputs), and ``benchmarks/*.md`` with the scripts and images they link to as
``benchmarks/<name>``, so the site never holds a second, drifting copy of either.
"""

from __future__ import annotations

from pathlib import Path

from mkdocs.plugins import event_priority
from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parents[1]
SOURCES = {
    "tutorials": (ROOT / "notebooks", ("*.ipynb",)),
    "benchmarks": (ROOT / "benchmarks", ("*.md", "*.py", "*.png")),
}


@event_priority(100)  # before mkdocs-jupyter's on_files, which turns notebooks into pages
def on_files(files: Files, config) -> Files:
    for prefix, (folder, patterns) in SOURCES.items():
        for pattern in patterns:
            for path in sorted(folder.glob(pattern)):
                uri = f"{prefix}/{path.name}"
                if files.get_file_from_path(uri) is None:
                    files.append(File.generated(config, uri, abs_src_path=str(path)))
    return files
