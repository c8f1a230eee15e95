"""The app dependencies run one way (architecture.md): `articles` uses `reviewers`, `images`
and `references`; none of them uses `articles`.

Read from the source with `ast`, not by importing it, so a dependency is found wherever it
is written: at module level, inside a function (a lazy import to dodge a cycle is still a
dependency) or under TYPE_CHECKING, absolute or relative. Model fields and migrations are
checked through Django, since they name other apps by string.
"""

from __future__ import annotations

import ast
from collections import deque
from pathlib import Path

import pytest
from django.apps import apps
from django.db.migrations.loader import MigrationLoader

ROOT = Path(__file__).resolve().parents[2]

# The project's own apps each of these may import directly (besides itself). Everything
# else of the project, `articles` above all, is out of bounds, directly or through another
# module.
MAY_IMPORT: dict[str, set[str]] = {
    "references": set(),
    "images": set(),
    "reviewers": {"clinic_site", "images"},
    # Knows no view or model of articles: views are marked in the URLconfs, and what it
    # watches is named as tables, in SQL.
    "pagecache": {"clinic_site"},
}
FORBIDDEN = "articles"

# Migrations recorded before the rule was written: deployed databases have applied them, so
# they stay as they are. (migration, the articles migration it depends on)
HISTORICAL_CROSS_LINKS = {
    (("reviewers", "0001_initial"), ("articles", "0001_initial")),
    (("images", "0002_move_existing_pictures"), ("articles", "0010_frozen_revision_content")),
    # Not historical but needed: its triggers are installed on the tables articles creates.
    (("pagecache", "0001_initial"), ("articles", "0012_audit_action_approval_refused")),
}


def _project_packages() -> set[str]:
    return {p.parent.name for p in ROOT.glob("*/__init__.py")} - {"tests"}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _module_path(name: str) -> Path | None:
    base = ROOT.joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def imported_names(source: str, module: str, *, is_package: bool = False) -> set[str]:
    """Every dotted name `source` (the text of `module`) imports, relative forms resolved.

    `from a.b import c` yields both `a.b` and `a.b.c` (c may be a module or a name in a.b);
    a constant-string `importlib.import_module(...)` or `__import__(...)` counts as well.
    """
    package = module if is_package else module.rpartition(".")[0]
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                # `from ..x import y` inside a.b.c: up `level - 1` packages from a.b.
                anchor = package.split(".") if package else []
                keep = len(anchor) - (node.level - 1)
                base = ".".join(anchor[: max(keep, 0)])
                if node.module:
                    base = f"{base}.{node.module}" if base else node.module
            else:
                base = node.module or ""
            if base:
                names.add(base)
            names.update(f"{base}.{a.name}" if base else a.name for a in node.names)
        elif (
            isinstance(node, ast.Call)
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
            and (
                (
                    isinstance(node.func, ast.Name)
                    and node.func.id in {"__import__", "import_module"}
                )
                or (isinstance(node.func, ast.Attribute) and node.func.attr == "import_module")
            )
        ):
            names.add(node.args[0].value)
    return names


def _project_imports(path: Path, packages: set[str]) -> set[str]:
    """The project modules (and their packages, whose __init__ runs too) `path` imports."""
    found: set[str] = set()
    module = _module_name(path)
    for name in imported_names(
        path.read_text(encoding="utf-8"), module, is_package=path.name == "__init__.py"
    ):
        parts = name.split(".")
        if parts[0] not in packages:
            continue
        for end in range(1, len(parts) + 1):
            prefix = ".".join(parts[:end])
            if _module_path(prefix) is not None:
                found.add(prefix)
    return found


def _app_modules(app: str) -> list[Path]:
    return sorted(p for p in (ROOT / app).rglob("*.py") if "__pycache__" not in p.parts)


def _top(name: str) -> str:
    return name.split(".")[0]


@pytest.mark.parametrize("app", sorted(MAY_IMPORT))
def test_app_imports_nothing_from_articles(app):
    packages = _project_packages()
    offences = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in _app_modules(app)
        for name in sorted(_project_imports(path, packages))
        if _top(name) == FORBIDDEN
    ]
    assert not offences, "\n".join(offences)


@pytest.mark.parametrize("app", sorted(MAY_IMPORT))
def test_app_imports_only_the_apps_it_may(app):
    packages = _project_packages()
    allowed = MAY_IMPORT[app] | {app}
    offences = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in _app_modules(app)
        for name in sorted(_project_imports(path, packages))
        if _top(name) not in allowed
    ]
    assert not offences, "\n".join(offences)


@pytest.mark.parametrize("app", sorted(MAY_IMPORT))
def test_app_does_not_reach_articles_through_another_module(app):
    """An allowed app (clinic_site holds the URLs, which import articles) must not become
    the way round: follow every import from the app to the end."""
    packages = _project_packages()
    came_from: dict[str, str | None] = {_module_name(p): None for p in _app_modules(app)}
    queue = deque(came_from)
    while queue:
        module = queue.popleft()
        if _top(module) == FORBIDDEN:
            chain = [module]
            while (previous := came_from[chain[-1]]) is not None:
                chain.append(previous)
            pytest.fail(" → ".join(reversed(chain)))
        path = _module_path(module)
        for name in _project_imports(path, packages) if path else ():
            if name not in came_from:
                came_from[name] = module
                queue.append(name)


@pytest.mark.parametrize("app", sorted(MAY_IMPORT))
def test_app_models_point_at_no_articles_model(app):
    """A lazy "articles.Model" reference is a dependency no import shows."""
    offences = [
        f"{model.__name__}.{field.name} → {field.related_model._meta.label}"
        for model in apps.get_app_config(app).get_models()
        for field in model._meta.get_fields()
        if field.is_relation
        and not field.auto_created
        and field.related_model is not None
        and field.related_model._meta.app_label == FORBIDDEN
    ]
    assert not offences, "\n".join(offences)


def test_no_new_migration_depends_on_articles():
    loader = MigrationLoader(None, ignore_no_migrations=True)
    links = {
        (key, tuple(dependency))
        for key, migration in loader.disk_migrations.items()
        if key[0] in MAY_IMPORT
        for dependency in migration.dependencies
        if dependency[0] == FORBIDDEN
    }
    assert links <= HISTORICAL_CROSS_LINKS, sorted(links - HISTORICAL_CROSS_LINKS)
    for key, migration in loader.disk_migrations.items():
        if key[0] in MAY_IMPORT:
            assert not [t for t in migration.run_before if t[0] == FORBIDDEN], key


# The detector itself: each form of import is seen, and nothing else is taken for one.
@pytest.mark.parametrize(
    ("source", "module", "expected"),
    [
        ("import articles", "reviewers.admin", "articles"),
        ("import articles.models as m", "reviewers.admin", "articles.models"),
        ("from articles import views", "reviewers.admin", "articles.views"),
        ("from articles.models import Review", "reviewers.admin", "articles.models"),
        ("from ..articles import jsonld", "reviewers.admin", "articles.jsonld"),
        ("from .. import articles", "reviewers.admin", "articles"),
        ("from ...articles.models import X", "reviewers.migrations.0004", "articles.models"),
        ("def f():\n    from articles import workflow", "reviewers.admin", "articles.workflow"),
        ("importlib.import_module('articles.views')", "reviewers.admin", "articles.views"),
        ("__import__('articles')", "reviewers.admin", "articles"),
    ],
)
def test_detector_sees_every_form(source, module, expected):
    assert expected in imported_names(source, module)


@pytest.mark.parametrize(
    ("source", "module"),
    [
        ("from .models import Reviewer", "reviewers.admin"),
        ("import articles_archive", "reviewers.admin"),
        ("x = 'from articles import views'", "reviewers.admin"),
    ],
)
def test_detector_takes_nothing_else_for_articles(source, module):
    assert not any(_top(name) == FORBIDDEN for name in imported_names(source, module))


def test_detector_resolves_relative_imports_in_a_package_init():
    assert "reviewers.models" in imported_names(
        "from .models import Reviewer", "reviewers", is_package=True
    )
    # In reviewers/sub/__init__.py "." is reviewers.sub itself, so "..." is the top level.
    assert "articles" in imported_names(
        "from ... import articles", "reviewers.sub", is_package=True
    )
    assert "reviewers.articles" in imported_names(
        "from .. import articles", "reviewers.sub", is_package=True
    )
