"""tests/vectors/policy_documents.json against policydoc.py: the actions the function counts as already granted.
The CLI reads the same vectors (crates/lppg-core/tests/contract_vectors.rs); both must agree."""
import json
import os

import pytest

import policydoc
from conftest import VECTORS_DIR


def load_cases():
    with open(os.path.join(VECTORS_DIR, "policy_documents.json"), encoding="utf-8") as f:
        return json.load(f)["cases"]


def lower(actions):
    return {a.lower() for a in actions}


def test_names_are_unique():
    names = [c["name"] for c in load_cases()]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("case", load_cases(), ids=lambda c: c["name"])
def test_granted_actions(case):
    content = policydoc.parse(case["document"])
    assert lower(content.actions) == lower(case["granted"])
    # what a Draft built from the document reports as present (the writer's check) is the same set
    draft = policydoc.Draft(content.kept, content.actions)
    assert all(a in draft for a in case["granted"])
    assert lower(draft.actions) == lower(case["granted"])
