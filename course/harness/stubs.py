"""The rule that keeps a stub and its solution in step: they differ only inside the marked bodies.

A *marked body* is a function (or method) in the stub whose body is, after an optional docstring,
exactly ``raise NotImplementedError`` (with or without a message), with a ``# TODO:`` comment between
its ``def`` line and that ``raise``. The comparison is done on syntax trees, so comments and formatting
never matter:

1. every marked function exists in the solution under the same qualified name, with the same
   signature, decorators and docstring, and a real body (not the stub's ``raise``);
2. with the marked bodies replaced by ``...`` in both files, the two modules are identical, except that
   the solution may add top-level ``import`` statements (for the helpers its bodies use).

The stub must have at least one marked body.
"""

from __future__ import annotations

import ast
import difflib
from dataclasses import dataclass

TODO_MARK = "# TODO:"

Function = ast.FunctionDef | ast.AsyncFunctionDef


@dataclass(frozen=True)
class Marked:
    qualname: str
    node: Function


def _docstring_and_rest(body: list[ast.stmt]) -> tuple[ast.stmt | None, list[ast.stmt]]:
    first = body[0] if body else None
    if (
        isinstance(first, ast.Expr)
        and isinstance(first.value, ast.Constant)
        and isinstance(first.value.value, str)
    ):
        return first, body[1:]
    return None, body


def is_stub_body(node: Function) -> bool:
    """True when the function does nothing but ``raise NotImplementedError`` (after a docstring)."""
    _, rest = _docstring_and_rest(node.body)
    if len(rest) != 1 or not isinstance(rest[0], ast.Raise) or rest[0].exc is None:
        return False
    exc = rest[0].exc
    target = exc.func if isinstance(exc, ast.Call) else exc
    return isinstance(target, ast.Name) and target.id == "NotImplementedError"


def functions(tree: ast.Module) -> dict[str, Function]:
    """Every function and method by qualified name (``Class.method``, ``outer.<locals>.inner``)."""
    found: dict[str, Function] = {}

    def walk(body: list[ast.stmt], prefix: str) -> None:
        for node in body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                found[prefix + node.name] = node
                walk(node.body, f"{prefix}{node.name}.<locals>.")
            elif isinstance(node, ast.ClassDef):
                walk(node.body, f"{prefix}{node.name}.")

    walk(tree.body, "")
    return found


def marked_functions(tree: ast.Module) -> list[Marked]:
    """The stub's marked functions, in source order."""
    return [Marked(name, node) for name, node in functions(tree).items() if is_stub_body(node)]


def _blank(tree: ast.Module, names: set[str]) -> ast.Module:
    """A copy of ``tree`` with the named functions' bodies replaced by their docstring and ``...``."""
    copy = ast.parse(ast.unparse(tree))
    for name, node in functions(copy).items():
        if name in names:
            doc, _ = _docstring_and_rest(node.body)
            node.body = [*([doc] if doc else []), ast.Expr(ast.Constant(...))]
    return copy


def _signature(node: Function) -> str:
    """Everything about a function but its body below the docstring, as a comparable string."""
    doc, _ = _docstring_and_rest(node.body)
    parts = [type(node).__name__, node.args, node.returns, *node.decorator_list, doc]
    return "|".join(ast.dump(part) if isinstance(part, ast.AST) else str(part) for part in parts)


def compare_stub_and_solution(stub_source: str, solution_source: str) -> list[str]:
    """Every way the pair breaks the rule above; empty when they are in step."""
    try:
        stub = ast.parse(stub_source)
    except SyntaxError as error:
        return [f"stub does not parse: {error}"]
    try:
        solution = ast.parse(solution_source)
    except SyntaxError as error:
        return [f"solution does not parse: {error}"]

    marked = marked_functions(stub)
    if not marked:
        return ["stub has no marked body (a function whose body is `raise NotImplementedError`)"]
    problems: list[str] = []
    lines = stub_source.splitlines()
    solution_functions = functions(solution)
    for item in marked:
        raise_line = item.node.body[-1].lineno
        region = lines[item.node.lineno - 1 : raise_line]
        if not any(TODO_MARK in line for line in region):
            problems.append(f"stub's {item.qualname} has no `{TODO_MARK}` comment before its raise")
        counterpart = solution_functions.get(item.qualname)
        if counterpart is None:
            problems.append(f"solution has no {item.qualname}")
            continue
        if _signature(counterpart) != _signature(item.node):
            problems.append(
                f"{item.qualname}: signature, decorators or docstring differ between stub and solution"
            )
        if is_stub_body(counterpart):
            problems.append(f"solution's {item.qualname} still raises NotImplementedError")

    names = {item.qualname for item in marked}
    blank_stub, blank_solution = _blank(stub, names), _blank(solution, names)
    stub_imports = {
        ast.dump(n) for n in blank_stub.body if isinstance(n, ast.Import | ast.ImportFrom)
    }
    blank_solution.body = [
        n
        for n in blank_solution.body
        if not (isinstance(n, ast.Import | ast.ImportFrom) and ast.dump(n) not in stub_imports)
    ]
    if ast.dump(blank_stub) != ast.dump(blank_solution):
        diff = difflib.unified_diff(
            ast.unparse(blank_stub).splitlines(),
            ast.unparse(blank_solution).splitlines(),
            "stub (marked bodies blanked)",
            "solution (marked bodies blanked)",
            lineterm="",
        )
        problems.append("stub and solution differ outside the marked bodies:\n" + "\n".join(diff))
    return problems
