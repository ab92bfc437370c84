"""The error codes each API operation can answer, by status, read from the code itself (issue 31, point 1): the
OpenAPI document names them per operation, and tests/test_api_fuzz.py holds the server to them (a response's `code`
outside its operation's list fails the schema).

Read by walking the source (ast), not by hand: from each view, every function it calls in the app (by name, through
the module's imports, nested functions counted with the function that holds them) and every error it builds there —
a ServiceError subclass called with a literal code (its class's status), `error(message, status, code=...)` (the
status's own code when none is given), a function that raises with the code it is handed (check_text) called with a
literal one. It over-approximates (a call path the view never takes still counts), never the other way but for a
code built at run time — none of the services' are. The request's own errors (no credential, CSRF, a body too large,
a second factor or a password change owed) are every operation's (REQUEST_CODES).
"""
import ast
import os
from functools import cache

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # evalapp/

# What any request may be answered before or around its view: api.authenticate and check_csrf_for_session_clients,
# the body limit (bodylimits, errors.py), the second factor and password change owed (auth), an unknown id (the
# route's converter), a method not served.
REQUEST_CODES = {401: {"auth.required", "auth.invalid_token"}, 400: {"csrf", "request.invalid"},
                 403: {"auth.second_factor_first", "auth.password_change_first", "access.denied"},
                 404: {"not_found"}, 405: {"method.not_allowed"}, 413: {"request.too_large"}}


def _module_name(path: str) -> str:
    rel = os.path.relpath(path, os.path.dirname(ROOT))[:-3].replace(os.sep, ".")
    return rel.removesuffix(".__init__")


def _resolve(module: str, level: int, name: str | None) -> str:
    parts = module.split(".")
    is_package = os.path.exists(os.path.join(os.path.dirname(ROOT), *parts, "__init__.py"))
    base = parts if is_package else parts[:-1]
    base = base[:len(base) - (level - 1)] if level > 1 else base
    return ".".join(base + ([name] if name else []))


class _Module:
    def __init__(self, name: str, tree: ast.Module):
        self.name = name
        self.imports: dict[str, tuple[str, str | None]] = {}  # alias → (module, attribute or None for a module)
        self.functions: dict[str, ast.AST] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                source = _resolve(name, node.level, node.module) if node.level else (node.module or "")
                for alias in node.names:
                    self.imports[alias.asname or alias.name] = (source, alias.name)
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    self.imports[alias.asname or alias.name.split(".")[0]] = (alias.name, None)
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self.functions[node.name] = node
            elif isinstance(node, ast.ClassDef):
                for item in node.body:
                    if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                        self.functions.setdefault(item.name, item)


@cache
def _modules() -> dict[str, _Module]:
    out = {}
    for folder, _dirs, files in os.walk(ROOT):
        for file in files:
            if file.endswith(".py"):
                path = os.path.join(folder, file)
                with open(path, encoding="utf-8") as f:
                    out[_module_name(path)] = _Module(_module_name(path), ast.parse(f.read()))
    return out


@cache
def _statuses() -> dict[str, int]:
    """Error class name → its HTTP status (every ServiceError subclass of the app)."""
    from ..services.errors import ServiceError

    found, todo = {}, [ServiceError]
    while todo:
        cls = todo.pop()
        found[cls.__name__] = cls.status
        todo.extend(cls.__subclasses__())
    return found


def _target(module: _Module, func: ast.expr) -> tuple[str, str] | None:
    """The (module, function) a call names, when it is the app's."""
    if isinstance(func, ast.Name):
        if func.id in module.functions:
            return module.name, func.id
        if func.id in module.imports:
            source, attr = module.imports[func.id]
            if attr is not None:
                if f"{source}.{attr}" in _modules():
                    return None  # a module called: not a function
                return source, attr
    elif isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
        alias = module.imports.get(func.value.id)
        if alias is not None:
            source, attr = alias
            name = source if attr is None else f"{source}.{attr}"
            if name in _modules():
                return name, func.attr
    return None


def _literal(node) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


@cache
def _own(module_name: str, function: str) -> tuple[frozenset, frozenset, tuple]:
    """(codes as (status, code), calls as (module, function), forwarded status or None) of one function."""
    from . import STATUS_CODES

    module = _modules().get(module_name)
    node = module.functions.get(function) if module else None
    if node is None:
        return frozenset(), frozenset(), (None,)
    statuses = _statuses()
    codes, calls = set(), set()
    first_param = node.args.args[0].arg if node.args.args else None
    forwards = None
    for call in (n for n in ast.walk(node) if isinstance(n, ast.Call)):
        name = call.func.id if isinstance(call.func, ast.Name) else (
            call.func.attr if isinstance(call.func, ast.Attribute) else None)
        if name in statuses and call.args:
            code = _literal(call.args[0])
            if code is not None:
                codes.add((statuses[name], code))
            elif isinstance(call.args[0], ast.Name) and call.args[0].id == first_param:
                forwards = statuses[name]
            continue
        if name == "error" and len(call.args) >= 2 and isinstance(call.args[1], ast.Constant):
            status = call.args[1].value
            code = next((_literal(k.value) for k in call.keywords if k.arg == "code"), None)
            codes.add((status, code or STATUS_CODES.get(status, "error")))
            continue
        target = _target(module, call.func)
        if target is not None:
            calls.add((target, _literal(call.args[0]) if call.args else None))
    return frozenset(codes), frozenset(calls), (forwards,)


@cache
def codes_of(module_name: str, function: str) -> dict[int, frozenset]:
    """status → the codes a function (and everything it calls in the app) can raise."""
    found: dict[int, set] = {}
    seen = set()
    todo = [(module_name, function)]
    while todo:
        key = todo.pop()
        if key in seen:
            continue
        seen.add(key)
        codes, calls, (forwards,) = _own(*key)
        for status, code in codes:
            found.setdefault(status, set()).add(code)
        for target, literal in calls:
            todo.append(target)
            target_forwards = _own(*target)[2][0]
            if target_forwards is not None and literal is not None:
                found.setdefault(target_forwards, set()).add(literal)
    return {status: frozenset(codes) for status, codes in found.items()}


# What a decorator answers before the view (not read from the view's body): the log-in throttle.
DECORATED = {"api.issue_token": {429: {"auth.throttled", "rate.limited"}}}


def endpoint_codes(app) -> dict[str, dict[int, frozenset]]:
    """endpoint → status → codes, for every view of the API, the request's own codes included."""
    out = {}
    for endpoint, view in app.view_functions.items():
        if not endpoint.startswith("api."):
            continue
        found = {s: set(c) for s, c in codes_of(view.__module__, view.__name__).items()}
        for status, codes in (*REQUEST_CODES.items(), *DECORATED.get(endpoint, {}).items()):
            found.setdefault(status, set()).update(codes)
        out[endpoint] = {s: frozenset(c) for s, c in found.items()}
    return out
