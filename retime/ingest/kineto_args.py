"""The `args` keys the store reads from a Chrome / Kineto event, declared once in kineto_args.toml,
and the SQL each reader makes of them: the JSON paths of DuckDB's reader, the staging columns
(`arg_<column>`, the field's text), and the events columns they fill. The pieces are declared
identifiers, paths and types, never values read from a trace."""
from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources


@dataclass(frozen=True)
class ArgField:
    column: str             # the events column it fills
    type: str               # that column's type
    keys: tuple[str, ...]   # the args keys that hold it, the first present counts

    @property
    def staged(self) -> str:
        """Its column in the staging table `raw`: the value's text."""
        return f"arg_{self.column}"


@lru_cache(maxsize=1)
def fields() -> tuple[ArgField, ...]:
    declared = tomllib.loads(resources.files("retime.ingest").joinpath("kineto_args.toml").read_text())
    return tuple(ArgField(f["column"], f["type"], tuple(f["keys"])) for f in declared["field"])


@lru_cache(maxsize=1)
def keys() -> tuple[str, ...]:
    """Every key, in the declaration's order (the columnar reader's key table)."""
    return tuple(key for f in fields() for key in f.keys)


def _json_path(key: str) -> str:
    return f"'$.{key}'" if key.isidentifier() else f"'$.\"{key}\"'"


def _first(values: list[str]) -> str:
    return values[0] if len(values) == 1 else f"coalesce({', '.join(values)})"


@lru_cache(maxsize=1)
def fill() -> dict[str, str]:
    """The pieces of SQL made from the declaration, by the `{name}` the reader's scripts write:
    arg_paths (DuckDB's json_extract_string paths, in keys() order), args_from_list (the staging
    columns from that list, `a`), args_from_batch (the same from the columnar reader's batch,
    whose key columns it names key_1, key_2, ... with the given bits of `delegated`; args_bit is
    the bit of the args object itself) and arg_columns (the events columns, typed, from the
    staging table `r`; NULL for a Python frame)."""
    from retime.ingest.json_columns import args_bit, key_bit
    position, from_list, from_batch = 0, [], []
    for f in fields():
        numbers = range(position + 1, position + 1 + len(f.keys))
        from_list.append(f"{_first([f'a[{k}]' for k in numbers])} AS {f.staged}")
        from_batch.append(f"{_first([f'event_text(key_{k}, delegated, {key_bit(k)})' for k in numbers])} AS {f.staged}")
        position += len(f.keys)
    columns = ["CASE WHEN e.kind <> 'python' THEN "
               + (f"r.{f.staged}" if f.type == "VARCHAR" else f"TRY_CAST(r.{f.staged} AS {f.type})")
               + f" END AS {f.column}" for f in fields()]
    return {"arg_paths": ", ".join(_json_path(key) for key in keys()),
            "args_from_list": ",\n       ".join(from_list),
            "args_from_batch": ",\n       ".join(from_batch),
            "arg_columns": ",\n       ".join(columns),
            "args_bit": str(args_bit())}
