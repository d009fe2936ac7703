"""The explicit list of transforms: nothing left out, ids stable, documentation complete.

`dockopt.transforms.ALL` is written by hand, so a new module that is not added to it
would silently never run; this module finds every transform module on disk and checks it
is registered, and that its documentation has the sections `dockopt explain` promises.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
import subprocess
import sys

import pytest

import dockopt.transforms
from dockopt.optimizer.transform import REVIEW, SAFE, Transform
from dockopt.transforms import ALL, REGISTRY, UnknownTransform, by_id, choose

MODULES = sorted(m.name for m in pkgutil.iter_modules(dockopt.transforms.__path__) if not m.name.startswith("_"))
SECTIONS = ("What it does", "Why", "Example", "When it is not safe")


def test_there_are_transforms() -> None:
    assert MODULES and ALL


@pytest.mark.parametrize("name", MODULES)
def test_every_transform_module_is_registered(name: str) -> None:
    module = importlib.import_module(f"dockopt.transforms.{name}")
    transform = getattr(module, "TRANSFORM", None)
    assert isinstance(transform, Transform), f"dockopt/transforms/{name}.py declares no TRANSFORM"
    assert transform in REGISTRY, f"dockopt/transforms/{name}.py is missing from dockopt.transforms.ALL or OPT_IN"
    assert transform.doc == module.__doc__, "the documentation is the module docstring"


def test_every_registered_transform_has_its_own_module() -> None:
    modules = {t.fix.__module__ for t in REGISTRY}
    assert modules == {f"dockopt.transforms.{name}" for name in MODULES}
    assert len(modules) == len(REGISTRY)


def test_ids_and_names_are_unique_and_well_formed() -> None:
    ids = [t.id for t in REGISTRY]
    names = [t.name for t in REGISTRY]
    assert len(set(ids)) == len(ids)
    assert len(set(names)) == len(names)
    for t in REGISTRY:
        assert re.fullmatch(r"DO\d{3}", t.id), t.id
        assert re.fullmatch(r"[a-z][a-z0-9]*(-[a-z0-9]+)*", t.name), t.name
        assert t.safety in (SAFE, REVIEW)
        assert t.title.strip() and "\n" not in t.title
        assert t.why.strip() and "\n" not in t.why
        assert callable(t.fix)


@pytest.mark.parametrize("transform", REGISTRY, ids=[t.id for t in REGISTRY])
def test_documentation_has_every_section(transform: Transform) -> None:
    doc = transform.doc or ""
    assert doc.splitlines()[0].startswith(f"{transform.id} {transform.name}:"), "first line: `ID name: summary`"
    positions = []
    for section in SECTIONS:
        match = re.search(rf"^{re.escape(section)}\s*$", doc, re.MULTILINE)
        assert match, f"{transform.id}: no {section!r} section"
        positions.append(match.start())
        body = doc[match.end() :].lstrip("\n").split("\n\n", 1)[0]
        assert body.strip(), f"{transform.id}: the {section!r} section is empty"
    assert positions == sorted(positions), f"{transform.id}: sections out of order"


@pytest.mark.parametrize("transform", REGISTRY, ids=[t.id for t in REGISTRY])
def test_lookup_by_id_or_name(transform: Transform) -> None:
    assert by_id(transform.id) is transform
    assert by_id(transform.id.lower()) is transform
    assert by_id(transform.name) is transform
    assert choose([transform.id]) == [transform]
    assert transform not in choose(None, [transform.name])


def test_unknown_lookup_raises() -> None:
    with pytest.raises(UnknownTransform):
        by_id("DO000")
    with pytest.raises(UnknownTransform):
        choose(["DO101", "nope"])


def test_choose_keeps_the_pipeline_order() -> None:
    reversed_ids = [t.id for t in reversed(ALL)]
    assert choose(reversed_ids) == list(ALL)


@pytest.mark.parametrize("transform", REGISTRY, ids=[t.id for t in REGISTRY])
def test_explain_prints_the_documentation(transform: Transform) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "dockopt", "explain", transform.id], capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith(f"{transform.id} {transform.name} ({transform.safety})")
    assert transform.doc.strip() in run.stdout


def test_opt_in_transforms_run_only_when_switched_on_or_selected() -> None:
    cache_mounts = by_id("cache-mounts")
    assert cache_mounts.opt_in and cache_mounts not in ALL and cache_mounts in REGISTRY
    assert cache_mounts not in choose()
    switched = choose(switched_on=("cache-mounts",))
    assert cache_mounts in switched
    assert not {t.id for t in switched} & set(cache_mounts.replaces), "the rewrites it replaces do not run beside it"
    assert choose(["DO320"]) == [cache_mounts]

