"""The import layering of docs/architecture.md, read from the source (every import statement,
those inside functions included)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Where each facerec package lives in the tree (pyproject's package-dir).
FOLDERS = {"facerec.compute": "compute", "facerec.index": "index", "facerec.frontend": "frontend"}
SHARED = ("domain", "config", "errors", "tasks", "settings", "metrics")
GRPC = ("grpc", "grpc_health", "grpc_reflection", "google.protobuf", "facerec.v1")


def _modules() -> dict[str, Path]:
    found = {}
    for package, folder in FOLDERS.items():
        for path in (ROOT / folder).rglob("*.py"):
            parts = path.relative_to(ROOT / folder).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join((package, *parts))] = path
    return found


MODULES = _modules()


def _imports(module: str, path: Path) -> set[str]:
    names = set()
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            names.add(base)
            # `from facerec.compute import photo` imports the module facerec.compute.photo.
            names.update(f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in MODULES)
    return names


def _within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def _compute(*subpackages: str) -> tuple[str, ...]:
    return tuple(f"facerec.compute.{s}" for s in subpackages)


# (modules the rule is about, imports they must not make, why)
RULES = [
    (
        ("facerec.index",),
        (*GRPC, "facerec.compute", "facerec.frontend"),
        "the index is a FAISS cache: no gRPC, no compute internals",
    ),
    (
        _compute(*SHARED),
        (*GRPC, *_compute("api", "store", "dispatch", "models", "worker", "cli")),
        "the shared modules are reachable from every package, so they import none",
    ),
    (
        _compute("models"),
        (*GRPC, *_compute("api", "store", "dispatch", "worker", "cli"), "facerec.index"),
        "models run on worker hosts, which have no store, API or index",
    ),
    (
        _compute("store"),
        (*GRPC, *_compute("api", "dispatch", "models", "worker", "cli"), "facerec.index"),
        "the store is below everything but the shared modules",
    ),
    (
        _compute("dispatch"),
        (*GRPC, *_compute("api", "worker", "cli")),
        "dispatching is domain code: it knows neither gRPC nor how workers run",
    ),
    (
        _compute("worker"),
        (*_compute("api", "store", "dispatch", "cli"), "facerec.index"),
        "a worker host needs only the models and the contract",
    ),
    (
        _compute("api"),
        (*_compute("cli"), "facerec.frontend"),
        "the server never imports the command line or the front end",
    ),
]


@pytest.mark.parametrize(("owners", "forbidden", "why"), RULES, ids=lambda r: str(r)[:40])
def test_layer_imports(owners: tuple[str, ...], forbidden: tuple[str, ...], why: str) -> None:
    broken = [
        f"{module} imports {name}"
        for module, path in MODULES.items()
        if _within(module, owners)
        for name in sorted(_imports(module, path))
        if _within(name, forbidden)
    ]
    assert not broken, f"{why}:\n" + "\n".join(broken)


def test_frontend_imports_only_the_contract() -> None:
    """The front end talks to compute over gRPC only: the generated code, nothing else."""
    broken = [
        f"{module} imports {name}"
        for module, path in MODULES.items()
        if _within(module, ("facerec.frontend",))
        for name in sorted(_imports(module, path))
        if name.startswith("facerec") and not _within(name, ("facerec.frontend", "facerec.v1"))
    ]
    assert not broken, "\n".join(broken)


def test_the_check_sees_a_forbidden_import(tmp_path: Path) -> None:
    """The reader catches an import inside a function and a relative one."""
    source = tmp_path / "probe.py"
    source.write_text(
        "def f():\n    from facerec.compute.store import spool\n"
        "from ..api import server\nimport grpc\n"
    )
    names = _imports("facerec.compute.models.probe", source)
    assert {"facerec.compute.store.spool", "facerec.compute.api", "grpc"} <= names
    assert "facerec.compute.api.server" in names


def test_no_module_is_too_long() -> None:
    """Modules stay small enough to read in one sitting (DESIGN: about 400 lines at most)."""
    long = {m: n for m, p in MODULES.items() if (n := len(p.read_text().splitlines())) > 400}
    assert not long, long
