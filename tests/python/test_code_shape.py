"""The function's code stays readable: no function over 80 lines (as clippy's too_many_lines holds the Rust side,
see clippy.toml)."""
import ast
import os

from conftest import FUNCTION_DIR

LIMIT = 80


def long_functions(source):
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            length = node.end_lineno - node.lineno + 1
            if length > LIMIT:
                yield node.name, length


def test_no_function_over_the_limit():
    found = []
    for name in sorted(os.listdir(FUNCTION_DIR)):
        if name.endswith(".py"):
            with open(os.path.join(FUNCTION_DIR, name), encoding="utf-8") as f:
                found += ["%s:%s (%d lines)" % (name, fn, n) for fn, n in long_functions(f.read())]
    assert not found, "functions over %d lines: %s" % (LIMIT, ", ".join(found))


def test_the_check_can_fail():
    body = "\n".join("    x = %d" % i for i in range(LIMIT + 1))
    assert list(long_functions("def f():\n" + body + "\n")) == [("f", LIMIT + 2)]
