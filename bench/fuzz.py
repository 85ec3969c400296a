"""A long fuzz run of the ingester: structured damage to real traces (tests/ingest/mutations.py),
each case ingested into a store that already holds a trace, and checked (never raises, a failure is
one line and leaves the store as it was, a success writes a whole trace).

    python bench/fuzz.py [CASES]        (default 1,000; sources: sample_traces/ and the small
                                         Chrome/Kineto files of ../shared/traces)
"""
from __future__ import annotations

import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.ingest.mutations import MUTATIONS, check_case, load  # noqa: E402

SMALL = 2 << 20  # sources up to 2 MB, so a case takes a fraction of a second


def sources() -> dict[str, dict]:
    paths = sorted((ROOT / "sample_traces").rglob("*.json.gz"))
    shared = ROOT.parent / "shared" / "traces"
    if shared.is_dir():
        paths += [p for p in sorted(shared.rglob("*.json*")) if p.stat().st_size <= SMALL
                  and p.parent.name != "derived" and not p.name.startswith("pytorch_et")]
    found = {}
    for path in paths:
        try:
            found[str(path.relative_to(ROOT.parent))] = load(path)
        except ValueError:  # a source that is itself not whole JSON is no base for mutations
            continue
    return found


def main() -> None:
    cases = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    bases = sources()
    names, kinds = sorted(bases), sorted(MUTATIONS)
    tried, findings = Counter(), []
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for case in range(cases):
            kind, source = kinds[case % len(kinds)], names[(case // len(kinds)) % len(names)]
            problem = check_case(Path(tmp), bases[source], kind, seed=case)
            tried[kind] += 1
            if problem:
                findings.append((kind, source, case, problem))
    elapsed = time.perf_counter() - start
    print(f"{cases:,} cases over {len(names)} real traces in {elapsed:.0f} s\n")
    print(f"| {'mutation':<26} | {'cases':>6} | {'findings':>8} |")
    print(f"|{'-' * 28}|{'-' * 8}|{'-' * 10}|")
    for kind in kinds:
        print(f"| {kind:<26} | {tried[kind]:>6} | {sum(1 for f in findings if f[0] == kind):>8} |")
    print(f"| {'all':<26} | {cases:>6} | {len(findings):>8} |")
    for kind, source, seed, problem in findings[:20]:
        print(f"\n{kind} of {source} (seed {seed}): {problem}")
    sys.exit(1 if findings else 0)


if __name__ == "__main__":
    main()
