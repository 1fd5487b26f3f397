"""The layout rules of docs/architecture.md, read from the source with `ast`
(nothing is imported): apps depend one way, `core` imports no app, imports go
down the layers only, the workflow stays free of Django, modules stay small,
packages instead of suffix files, and scripts/bench use the app's public
surface only."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.support import ROOT

APP = ("core", "approvals", "accounts", "payouts", "config")
MAX_LINES = 450
FIRST_PARTY = ("core", "approvals", "accounts", "payouts", "config", "tests", "scripts", "bench")


def modules(*folders: str) -> list[Path]:
    return sorted(
        path
        for folder in folders
        for path in (ROOT / folder).rglob("*.py")
        if ".venv" not in path.parts
    )


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(path: Path) -> list[tuple[int, str]]:
    """(line, dotted name) of everything `path` imports, relative imports resolved;
    `from a import b` yields both `a` and `a.b` (b may be a module)."""
    package = module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                base = ".".join([*base, node.module] if node.module else base)
            else:
                base = node.module or ""
            found.append((node.lineno, base))
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
    return found


def within(name: str, *prefixes: str) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def offences(paths: list[Path], forbidden) -> list[str]:
    return [
        f"{path.relative_to(ROOT)}:{line} imports {name}"
        for path in paths
        for line, name in imported(path)
        if forbidden(name)
    ]


# The policy package (issue 24) holds modules of several layers: its writes and pages
# count as services and views for the rules below.
SERVICES_AND_VIEWS = (
    "approvals.services",
    "approvals.views",
    "approvals.policy.services",
    "approvals.policy.views",
)


def test_worker_and_effects_never_import_services_or_views():
    paths = modules("approvals/worker", "approvals/effects")
    assert paths
    assert offences(paths, lambda n: within(n, *SERVICES_AND_VIEWS)) == []


def test_the_consumer_reads_through_selectors_not_views():
    paths = [ROOT / "approvals" / "consumers.py"]
    assert offences(paths, lambda n: within(n, *SERVICES_AND_VIEWS)) == []


def test_workflow_modules_import_no_django_and_nothing_that_does():
    # The business calendar is pure too: the workflow may import it (issue 31). So are
    # the policy rules (issue 24: approvals/policy/rules.py, whose package's __init__
    # imports nothing); the rest of approvals/policy/ is Django.
    policy = ROOT / "approvals" / "policy"
    paths = [
        *modules("approvals/workflow"),
        ROOT / "approvals" / "calendar.py",
        policy / "__init__.py",
        policy / "rules.py",
    ]
    assert paths

    def forbidden(name: str) -> bool:
        if within(name, "django", "channels", "asgiref"):
            return True
        # The rest of the app loads Django models or settings.
        pure = ("approvals.workflow", "approvals.calendar", "approvals.policy.rules")
        return within(name, *FIRST_PARTY) and not within(name, *pure)

    assert offences(paths, forbidden) == []


# The web tier speaks to Temporal through approvals/temporal/, selectors and services
# (which raise domain errors such as TemporalUnavailable), never itself. Known
# offenders being moved by their owners (issue 24): a file listed here may import
# temporalio until it is fixed; any other file under views/ or api/ may not.
TEMPORAL_IN_WEB_TIER: set[str] = set()  # empty since issue 24: keep it so


def test_views_and_the_api_import_nothing_from_temporalio():
    paths = [*modules("approvals/views", "approvals/api"), ROOT / "approvals/policy/views.py"]
    assert paths
    found = [
        offence
        for offence in offences(paths, lambda n: within(n, "temporalio"))
        if offence.split(":")[0] not in TEMPORAL_IN_WEB_TIER
    ]
    assert found == []


def test_workflow_modules_stay_small_and_the_workflow_is_composed():
    """Under approvals/workflow/ every module is under the limit, and the workflow class
    inherits from nothing: state, transitions and effects are composed, not mixed in."""
    long = {
        str(path.relative_to(ROOT)): lines
        for path in modules("approvals/workflow")
        if (lines := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert long == {}
    tree = ast.parse((ROOT / "approvals" / "workflow" / "workflow.py").read_text())
    (cls,) = [n for n in tree.body if isinstance(n, ast.ClassDef)]
    assert cls.name == "ExpenseApprovalWorkflow" and cls.bases == []
    for path in modules("approvals/workflow"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef):
                bases = {ast.unparse(b) for b in node.bases}
                assert not bases & {"Steps", "Outbox"}, f"{path.name}: {node.name} is a mixin"


def test_pure_workflow_modules_import_no_temporalio():
    """State, rules and transitions are pure: unit and property tests call them without
    a workflow (and they can schedule no command)."""
    pure = ["state.py", "rules.py", "transitions.py", "timers.py"]
    paths = [ROOT / "approvals" / "workflow" / name for name in pure]
    paths.append(ROOT / "approvals" / "policy" / "rules.py")
    assert offences(paths, lambda n: within(n, "temporalio")) == []


def test_no_module_of_the_app_is_over_the_line_limit():
    long = {
        str(path.relative_to(ROOT)): lines
        for path in modules(*APP)
        if (lines := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert long == {}, f"over {MAX_LINES} lines (split by role): {long}"


def test_packages_instead_of_suffix_modules():
    suffixed = [
        str(path.relative_to(ROOT))
        for path in modules(*APP)
        if path.name.startswith(("views_", "forms_"))
    ]
    assert suffixed == []


@pytest.mark.parametrize("folder", ["scripts", "bench"])
def test_scripts_and_bench_use_no_tests_and_no_private_app_names(folder):
    paths = modules(folder)
    assert paths
    found = offences(paths, lambda n: within(n, "tests"))
    for path in paths:
        tree = ast.parse(path.read_text(), str(path))
        app_names: set[str] = set()  # local names bound to app modules or objects
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and within(node.module or "", *APP):
                for alias in node.names:
                    if alias.name.startswith("_"):
                        found.append(f"{path.name}:{node.lineno} imports {alias.name}")
                    app_names.add(alias.asname or alias.name)
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if within(alias.name, *APP):
                        app_names.add(alias.asname or alias.name.split(".")[0])
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in app_names
                and node.attr.startswith("_")
                and not node.attr.startswith("__")
            ):
                found.append(f"{path.name}:{node.lineno} uses {node.value.id}.{node.attr}")
    assert found == []


def test_the_import_reader_sees_relative_and_absolute_imports(tmp_path, monkeypatch):
    """The checks above are only as good as `imported`: a planted offender is found."""
    package = tmp_path / "approvals" / "worker"
    package.mkdir(parents=True)
    offender = package / "bad.py"
    offender.write_text(
        "from .. import services\n"
        "from ..views.inbox import decide\n"
        "import approvals.views\n"
        "def f():\n"
        "    from django.conf import settings\n"
    )
    monkeypatch.setattr(f"{__name__}.ROOT", tmp_path)
    names = [name for _line, name in imported(offender)]
    assert "approvals.services" in names
    assert "approvals.views.inbox" in names
    assert "approvals.views" in names
    assert "django.conf" in names


# The apps, lowest first: an app imports only from the apps before it, never from one
# after it (config, the project root, is last: it may import anything, nothing imports
# it). Module- and function-level imports alike; management commands and migrations
# are part of their app, approvals/ocr/ part of approvals.
APP_ORDER = ("core", "accounts", "approvals", "payouts", "config")


def app_of(name: str) -> str | None:
    top = name.split(".")[0]
    return top if top in APP_ORDER else None


def upward_imports(app: str) -> list[str]:
    """Imports of `app` from an app after it in APP_ORDER."""
    rank = APP_ORDER.index(app)
    return offences(
        modules(app),
        lambda name: app_of(name) is not None and APP_ORDER.index(app_of(name)) > rank,
    )


def test_every_top_level_package_has_a_place_in_the_app_order():
    packages = {
        path.parent.name
        for path in ROOT.glob("*/__init__.py")
        if path.parent.name not in ("tests", "scripts", "bench")
    }
    assert packages == set(APP_ORDER)


def test_core_imports_no_app():
    paths = modules("core")
    assert paths
    assert offences(paths, lambda name: app_of(name) not in (None, "core")) == []


@pytest.mark.parametrize("app", ["core", "accounts", "approvals", "payouts"])
def test_apps_import_only_the_apps_below_them(app):
    """Together: the app graph is a DAG in APP_ORDER (no cycle, approvals ↔ payouts
    included), so an app can be read, tested and changed without the ones above it."""
    assert upward_imports(app) == []


# The layers of approvals/ (docs/architecture.md), lowest first: a module imports from
# its own layer or lower ones only. Selectors (reads) sit below what writes: services
# and the activities' effects read through them; nothing below the web layer imports
# views, forms, the API or the consumer. Modules in no layer (money, links, labels,
# audit_chain, templatetags' formatting, ...) are leaves any layer may use; they are
# not checked here.
LAYERS = (
    ("workflow", ("approvals.workflow",)),
    ("models", ("approvals.models",)),
    ("temporal", ("approvals.temporal",)),
    ("selectors", ("approvals.selectors",)),
    ("worker/effects", ("approvals.worker", "approvals.effects")),
    ("services", ("approvals.services",)),
    (
        "web",
        (
            "approvals.views",
            "approvals.api",
            "approvals.forms",
            "approvals.consumers",
            "approvals.routing",
            "approvals.urls",
        ),
    ),
)
# Upward imports still there, each (importing file, imported module) with why. A
# ratchet: the test fails for any other upward import, and for an entry here that no
# longer occurs (delete it then). Empty since issue 24 (the channel group names moved
# out of consumers.py, the receipt check out of forms/): keep it so.
UPWARD_ALLOWED: dict[tuple[str, str], str] = {}


def layer_of(name: str) -> int:
    """The rank of `name`'s layer in LAYERS, -1 for a module in none."""
    return next((rank for rank, (_, prefixes) in enumerate(LAYERS) if within(name, *prefixes)), -1)


def allows(entry: tuple[str, str], offence: str) -> bool:
    where, name = offence.split(" imports ")
    return where.split(":")[0] == entry[0] and within(name, entry[1])


def upward_layer_imports() -> list[str]:
    """Imports of a module of approvals/ from a layer above its own."""
    return [
        offence
        for path in modules("approvals")
        if (rank := layer_of(module_name(path))) >= 0
        for offence in offences([path], lambda name, rank=rank: layer_of(name) > rank)
    ]


def test_approvals_imports_go_down_the_layers_only():
    found = upward_layer_imports()
    assert [o for o in found if not any(allows(e, o) for e in UPWARD_ALLOWED)] == []
    gone = [e for e in UPWARD_ALLOWED if not any(allows(e, o) for o in found)]
    assert gone == [], "no longer imported upward: delete these entries"


def test_the_app_and_layer_checks_see_function_level_imports(tmp_path, monkeypatch):
    """A planted import inside a function, upward between apps and layers, is found."""
    for folder, source in [
        ("core", "def f():\n    from approvals.models import ExpenseRequest\n"),
        ("accounts", "def f():\n    import payouts.selectors\n"),
        ("approvals/effects", "def f():\n    from ..views import inbox\n"),
    ]:
        (tmp_path / folder).mkdir(parents=True)
        (tmp_path / folder / "planted.py").write_text(source)
    monkeypatch.setattr(f"{__name__}.ROOT", tmp_path)
    assert upward_imports("core") == [
        "core/planted.py:2 imports approvals.models",
        "core/planted.py:2 imports approvals.models.ExpenseRequest",
    ]
    assert upward_imports("accounts") == ["accounts/planted.py:2 imports payouts.selectors"]
    assert upward_layer_imports() == [
        "approvals/effects/planted.py:2 imports approvals.views",
        "approvals/effects/planted.py:2 imports approvals.views.inbox",
    ]
