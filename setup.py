"""Ship the top-level ``templates/`` folder as data files.

setup.cfg's ``data_files`` flattens a recursive glob into one folder, so the
tree is walked here: ``templates/findings/new.html`` is installed as
``<prefix>/share/inspect_kit/templates/findings/new.html``, where
``inspect_kit.paths`` looks for it when the package is not a checkout.
Everything else about the package is declared in setup.cfg.
"""

from pathlib import Path

from setuptools import setup

HERE = Path(__file__).parent


def template_data_files() -> list[tuple[str, list[str]]]:
    folders: dict[str, list[str]] = {}
    for path in sorted((HERE / "templates").rglob("*")):
        if path.is_file():
            relative = path.relative_to(HERE)
            target = Path("share", "inspect_kit", *relative.parent.parts)
            folders.setdefault(target.as_posix(), []).append(relative.as_posix())
    return sorted(folders.items())


setup(data_files=template_data_files())
