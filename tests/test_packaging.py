"""The wheel installs and works away from the checkout.

Builds a wheel from a copy of the source tree, installs it (without
dependencies) into a fresh virtual environment, and runs the installed
``inspect-kit`` and app from a folder outside the checkout. The fresh venv
gets its dependencies from the test venv's site-packages through a plain
path in a ``.pth`` file: that directory's own ``.pth`` files (the editable
install's finder) are not processed, so the checkout is not importable there
and the test really exercises the installed package.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOT_SOURCE = shutil.ignore_patterns(
    ".git", ".venv", "evidence", "node_modules", "build", "dist", "*.egg-info", "__pycache__",
    ".pytest_cache", ".ruff_cache", "bench",
)

RENDER_A_PAGE = textwrap.dedent(
    """
    import json, sys
    import inspect_kit
    from inspect_kit import paths
    from inspect_kit.frameworks import list_frameworks
    from inspect_kit.web import create_app

    app = create_app({"TESTING": True, "INSPECT_KIT_HOME": sys.argv[1], "SECRET_KEY": "x"})
    client = app.test_client()
    status = client.get("/status")
    home = client.get("/", follow_redirects=True)
    print(json.dumps({
        "package": inspect_kit.__file__,
        "templates": str(paths.templates_dir()),
        "frameworks": [framework.code for framework in list_frameworks()],
        "status_code": status.status_code,
        "html": status.get_data(as_text=True),
        "healthz": client.get("/healthz").get_json(),
        "home_status_code": home.status_code,
        "home_html": home.get_data(as_text=True),
    }))
    """
)


def run(*command, cwd: Path, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run([str(part) for part in command], cwd=cwd, capture_output=True, text=True, **kwargs)
    assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"
    return result


@pytest.mark.slow
def test_wheel_installs_and_renders_a_page(tmp_path):
    source = tmp_path / "source"
    shutil.copytree(ROOT, source, ignore=NOT_SOURCE)
    # --no-isolation: build with this venv's setuptools and wheel (test extras), offline and fast.
    run(sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", tmp_path / "dist", cwd=source)
    (wheel,) = (tmp_path / "dist").glob("inspect_kit-*.whl")

    venv = tmp_path / "venv"
    run(sys._base_executable, "-m", "venv", "--without-pip", venv, cwd=tmp_path)
    python = venv / "bin" / "python"
    run(sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index", wheel, cwd=tmp_path)
    site_packages = Path(
        run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=tmp_path).stdout.strip()
    )
    (site_packages / "test-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")

    home = tmp_path / "store"
    initialised = run(venv / "bin" / "inspect-kit", "init", "--home", home, cwd=tmp_path)
    assert "Evidence store ready" in initialised.stdout

    rendered = json.loads(run(python, "-c", RENDER_A_PAGE, home, cwd=tmp_path).stdout)
    assert Path(rendered["package"]).is_relative_to(venv), rendered["package"]
    templates = Path(rendered["templates"])
    assert templates.is_relative_to(venv) and templates.parts[-3:] == ("share", "inspect_kit", "templates")
    assert rendered["frameworks"] == ["jtai-2016", "jtai-front-door-2024", "sjar-2008"]
    assert rendered["status_code"] == 200
    assert "<h1>Store status</h1>" in rendered["html"]
    assert rendered["healthz"]["status"] == "ok"
    # The front page sends an anonymous visitor to sign in: a page built on the base layout.
    assert rendered["home_status_code"] == 200
    assert "<form" in rendered["home_html"] and "govuk-" in rendered["home_html"]

    # Every data file of the package (frameworks, static files, plugin assets) is in the wheel.
    package = Path(rendered["package"]).parent
    data_files = {
        path.relative_to(source / "inspect_kit")
        for path in (source / "inspect_kit").rglob("*")
        if path.is_file() and path.suffix not in {".py", ".pyc", ".md"} and not path.name.startswith(".")
    }
    missing = sorted(str(path) for path in data_files if not (package / path).is_file())
    assert not missing, f"not in the wheel (add them to [options.package_data] in setup.cfg): {missing}"

    # Every template of the checkout, in every folder, is in the wheel.
    shipped = {path.relative_to(templates) for path in templates.rglob("*") if path.is_file()}
    expected = {path.relative_to(ROOT / "templates") for path in (ROOT / "templates").rglob("*") if path.is_file()}
    assert expected <= shipped, sorted(expected - shipped)

    version = run(python, "-m", "inspect_kit", "--version", cwd=tmp_path)
    assert "inspect-kit, version" in version.stdout
