"""kafkalab's floors (CONTRIBUTING.md, "The package in floors"): every import points down, and chapter modules never
import each other. Read from the source with ast, so a lazy import inside a function counts too."""
from __future__ import annotations

import ast
from collections import defaultdict

from kafkalab.config import REPO

PACKAGE = REPO / "kafkalab"

#: floor -> the units on it (a unit is a top-level module or subpackage of kafkalab). Everything not listed is a
#: chapter unit, on floor 3.
FLOORS = {
    0: {"config", "errors", "wait", "validate", "datagen"},  # settings, errors, waiting, input rules, course data
    1: {"io"},  # Kafka I/O every chapter shares: clients, topics, reading to the end, groups, HTTP
    2: {"cluster"},  # the embedded cluster, its services and Kafka's tools
    4: {"widgets"},  # figures and widgets over chapter logic
    5: {"exercises", "notebook", "doctor", "cli", "__main__", "__init__"},  # what notebooks and learners call
}
CHAPTER_FLOOR = 3


def floor_of(unit: str) -> int:
    return next((f for f, units in FLOORS.items() if unit in units), CHAPTER_FLOOR)


def unit_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def imports() -> dict[tuple[str, str], set[str]]:
    """(importing unit, imported unit) -> the files where that import is written."""
    found: dict[tuple[str, str], set[str]] = defaultdict(set)
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(REPO).with_suffix("").parts)
        package = parts[:-1] if parts[-1] != "__init__" else parts[:-1]
        me = unit_of(".".join(parts)) if parts[-1] != "__init__" or len(parts) > 2 else "__init__"
        for node in ast.walk(ast.parse(path.read_text())):
            targets: list[str] = []
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package[: len(package) - (node.level - 1)]
                    mod = ".".join(base + ([node.module] if node.module else []))
                    targets = [mod] if node.module else [f"{mod}.{a.name}" for a in node.names]
                elif node.module and node.module.startswith("kafkalab"):
                    targets = [node.module]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names if a.name.startswith("kafkalab")]
            for target in targets:
                other = unit_of(target)
                if target.startswith("kafkalab") and other != me:
                    found[(me, other)].add(str(path.relative_to(REPO)))
    return found


def test_every_import_points_down_a_floor_or_stays_on_a_shared_one():
    upward = {(a, b): sorted(files) for (a, b), files in imports().items()
              if floor_of(b) > floor_of(a) and a != "__init__"}
    assert not upward, f"imports that point up a floor: {upward}"


def test_chapter_modules_never_import_each_other():
    across = {(a, b): sorted(files) for (a, b), files in imports().items()
              if floor_of(a) == CHAPTER_FLOOR and floor_of(b) == CHAPTER_FLOOR}
    assert not across, f"chapter modules importing each other (move the shared part down a floor): {across}"


def test_the_ground_floor_imports_no_client_library_at_module_level():
    """config, errors, wait, validate and datagen load instantly: no Kafka client, pandas or widgets on import."""
    heavy = ("kafka", "confluent_kafka", "pandas", "plotly", "ipywidgets", "pyflink", "quixstreams", "requests")
    for unit in FLOORS[0]:
        path = PACKAGE / f"{unit}.py"
        tree = ast.parse(path.read_text())
        top = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
        names = [a.name for n in top if isinstance(n, ast.Import) for a in n.names]
        names += [n.module for n in top if isinstance(n, ast.ImportFrom) and n.module and not n.level]
        assert not [m for m in names if m.split(".")[0] in heavy], (unit, names)
