"""The tests speak one vocabulary: people, passwords, content and snapshots come from
tests/builders, and a conftest only wraps builders as fixtures.

Each rule is a function from a module's source to its violations, so the rules are shown
to catch what they forbid (the `*_is_caught` tests) before they are run over the suite.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
BUILDERS = TESTS / "builders"
# The one home of the one test password.
PASSWORD_HOME = BUILDERS / "people.py"
# Models whose rows carry workflow state: made only through the workflow steps.
WORKFLOW_MODELS = {"Article", "Revision", "Review", "AuditEvent"}


def imports_of(tree: ast.AST) -> list[str]:
    """Every module an import statement names (`from . import x` names `.x`)."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = "." * node.level + (node.module or "")
            found.append(base)
            found += [f"{base}.{alias.name}" for alias in node.names]
    return found


def conftest_imports(source: str) -> list[str]:
    """Imports of a conftest module: fixtures reach tests by name, never by import."""
    return [
        name
        for name in imports_of(ast.parse(source))
        if "conftest" in name.replace("..", ".").strip(".").split(".")
    ]


def password_constants(source: str) -> list[str]:
    """Names holding a password literal: `…PASSWORD… = "…"` at any level."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            literal = isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)
            for target in targets:
                if isinstance(target, ast.Name) and "PASSWORD" in target.id.upper() and literal:
                    found.append(target.id)
    return found


def own_users(source: str) -> list[str]:
    """Users made around the builders: `create_user(…)` or `create_superuser(…)`."""
    return [
        f"line {node.lineno}: {node.func.attr}()"
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in ("create_user", "create_superuser")
    ]


def workflow_bypasses(source: str) -> list[str]:
    """`Article.objects.create(…)` and the like outside a function named
    `…_bypassing_workflow`. A model bound in an enclosing function (a migration test's
    `apps.get_model(…)`) is a historical model, not the workflow's: allowed."""
    found = []

    def visit(node: ast.AST, functions: tuple[ast.AST, ...]) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            if node.name.endswith("_bypassing_workflow"):
                return
            functions = (*functions, node)
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("create", "bulk_create", "get_or_create", "update_or_create")
            and isinstance(node.func.value, ast.Attribute)
            and node.func.value.attr == "objects"
            and isinstance(node.func.value.value, ast.Name)
            and node.func.value.value.id in WORKFLOW_MODELS
        ):
            model = node.func.value.value.id
            bound_here = any(
                isinstance(n, ast.Name) and n.id == model and isinstance(n.ctx, ast.Store)
                for function in functions
                for n in ast.walk(function)
            )
            if not bound_here:
                found.append(f"line {node.lineno}: {model}.objects.{node.func.attr}()")
        for child in ast.iter_child_nodes(node):
            visit(child, functions)

    visit(ast.parse(source), ())
    return found


def conftest_definitions(source: str) -> list[str]:
    """What a conftest defines besides fixtures, pytest hooks and private helpers."""
    found = []
    for node in ast.parse(source).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            fixture = any("fixture" in ast.unparse(d) for d in node.decorator_list)
            if not (fixture or node.name.startswith(("pytest_", "_"))):
                found.append(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            found += [
                t.id
                for t in targets
                if isinstance(t, ast.Name) and t.id.isupper() and "PASSWORD" in t.id.upper()
            ]
    return found


def modules() -> list[Path]:
    return sorted(path for path in TESTS.rglob("*.py") if "__pycache__" not in path.parts)


def relative(path: Path) -> str:
    return path.relative_to(TESTS.parent).as_posix()


# --- Each rule catches what it forbids ---------------------------------------------------


@pytest.mark.parametrize(
    "source",
    [
        "import conftest\n",
        "from conftest import PASSWORD\n",
        "from tests.conftest import make_user\n",
        "from .conftest import log_in\n",
        "from tests.browser.conftest import log_in\n",
        "from tests.browser import conftest\n",
        "def f():\n    from tests import conftest\n",
    ],
)
def test_a_conftest_import_is_caught(source):
    assert conftest_imports(source)


def test_a_second_password_constant_is_caught():
    assert password_constants('PASSWORD = "wf-secret"\n') == ["PASSWORD"]
    assert password_constants('ADMIN_PASSWORD: str = "x"\n') == ["ADMIN_PASSWORD"]
    assert password_constants("from tests.builders import PASSWORD\n") == []


def test_a_user_made_around_the_builders_is_caught():
    assert own_users('u = User.objects.create_user("w", password="pw")\n')
    assert own_users('User.objects.create_superuser("boss", "b@x", "pw")\n')


def test_a_workflow_state_written_directly_is_caught():
    assert workflow_bypasses("def make():\n    Article.objects.create(slug='a')\n")
    assert workflow_bypasses("Revision.objects.create(number=1)\n")
    named = "def publish_bypassing_workflow():\n    Revision.objects.create(number=1)\n"
    assert workflow_bypasses(named) == []
    historical = "def old(apps):\n    Article = apps.get_model('articles', 'Article')\n"
    assert workflow_bypasses(historical + "    Article.objects.create(slug='a')\n") == []
    nested = historical + "    def make():\n        return Article.objects.create(slug='a')\n"
    assert workflow_bypasses(nested) == []


def test_a_conftest_that_defines_more_than_fixtures_is_caught():
    source = (
        "import pytest\n"
        'PASSWORD = "x"\n'
        "def make_user(): ...\n"
        "@pytest.fixture\ndef writer(): ...\n"
        "def pytest_configure(config): ...\n"
        "def _private(): ...\n"
    )
    assert conftest_definitions(source) == ["PASSWORD", "make_user"]


# --- The suite keeps the rules -------------------------------------------------------------


def test_no_module_imports_a_conftest():
    found = {
        relative(path): conftest_imports(path.read_text(encoding="utf-8")) for path in modules()
    }
    assert {path: names for path, names in found.items() if names} == {}


def test_the_one_test_password_lives_in_the_builders():
    found = {
        relative(path): password_constants(path.read_text(encoding="utf-8"))
        for path in modules()
        if path not in (PASSWORD_HOME, Path(__file__).resolve())
    }
    assert {path: names for path, names in found.items() if names} == {}
    assert password_constants(PASSWORD_HOME.read_text(encoding="utf-8")) == ["PASSWORD"]


def test_users_are_made_by_the_builders():
    found = {
        relative(path): own_users(path.read_text(encoding="utf-8"))
        for path in modules()
        if BUILDERS not in path.parents and path != Path(__file__).resolve()
    }
    assert {path: calls for path, calls in found.items() if calls} == {}


def test_workflow_state_is_made_through_the_workflow():
    found = {
        relative(path): workflow_bypasses(path.read_text(encoding="utf-8"))
        for path in modules()
        if path != Path(__file__).resolve()
    }
    assert {path: calls for path, calls in found.items() if calls} == {}


def test_conftests_only_wrap_builders_as_fixtures():
    found = {
        relative(path): conftest_definitions(path.read_text(encoding="utf-8"))
        for path in TESTS.rglob("conftest.py")
    }
    assert {path: names for path, names in found.items() if names} == {}
