"""Generate __init__ methods from field lists (like attrs or dataclasses)."""
import linecache


def make_init(name, fields):
    args = ", ".join(fields)
    lines = [f"def __init__(self, {args}):"]
    lines += [f"    self.{f} = {f}" for f in fields] or ["    pass"]
    source = "\n".join(lines) + "\n"
    filename = f"<generated {name}.__init__>"
    code = compile(source, filename, "exec")
    namespace = {}
    eval(code, {}, namespace)
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    return namespace["__init__"]


def record(name, fields):
    return type(name, (), {"__init__": make_init(name, fields), "__slots__": tuple(fields)})
