"""One self-contained HTML page about a trace: the named queries' answers as tables and inline SVG
charts, readable offline (no scripts, no CDN, no external fonts).

Every number on the page is a row of a named query, so it can be re-derived with `retime query`.
"""
from __future__ import annotations

import html
from datetime import datetime, timezone

import polars as pl

from retime import charts
from retime.render import readable
from retime.queries import runner

CUT_AT = 70  # characters of a text cell shown; the rest in its tooltip
RESOURCE_COLORS = {"compute": "#3b7dd8", "communication": "#e0883b", "memory": "#8a5cc2", "idle": "#c9ccd1"}
CAUSE_COLORS = {"host_wait": "#d8523b", "kernel_wait": "#e8b04b", "other": "#9aa1aa"}
STYLE = """
body { font: 14px/1.45 system-ui, -apple-system, 'Segoe UI', sans-serif; margin: 2rem auto; max-width: 1100px;
       color: #1d2430; padding: 0 1rem; }
h1 { font-size: 1.5rem; margin-bottom: .2rem; } h2 { font-size: 1.15rem; margin-top: 2rem;
     border-bottom: 1px solid #dde1e6; padding-bottom: .3rem; }
.meta { color: #5b6573; } .empty { color: #5b6573; font-style: italic; }
table { border-collapse: collapse; margin: .5rem 0; font-size: 13px; display: block; max-width: 100%;
        overflow-x: auto; }
th, td { padding: .25rem .6rem; border-bottom: 1px solid #eceff2; text-align: right; }
th { background: #f5f7f9; } td:first-child, th:first-child { text-align: left; }
.query { font: 12px monospace; color: #5b6573; }
svg text { font: 12px system-ui, sans-serif; fill: #1d2430; }
.legend span { display: inline-block; margin-right: 1rem; }
.legend i { display: inline-block; width: .8rem; height: .8rem; margin-right: .3rem; vertical-align: -1px; }
"""


def build(store, trace: int | str) -> str:
    """The report page for one trace of `store` (a retime.Store), as HTML text."""
    trace_id = store.resolve_trace(trace)
    info = store.info(trace_id)["trace"].to_dicts()[0]
    def section(title: str, query: str, chart, limit: int = 30) -> str:  # absolute times from the trace's start
        return _section(store, title, query, trace_id, chart, limit, info["start_ns"])

    sections = [
        section("Where GPU time went", "temporal_breakdown", _temporal_chart),
        section("GPU time by kind of kernel", "kernel_classes",
                 lambda df: charts.bars(df["class"].to_list(), df["total_ns"].to_list(), "ms", 1e6)),
        section("What overlapped what on the GPU", "overlap_combinations",
                 lambda df: charts.bars([f"GPU {d} {c}" for d, c in zip(df["device"], df["combination"])],
                                        df["ns"].to_list(), "ms", 1e6)),
        section("GPU time by category of operator", "op_categories",
                 lambda df: charts.bars([f"{c} (by {s})" for c, s in zip(df["category"], df["source"])],
                                        df["gpu_ns"].to_list(), "ms", 1e6)),
        section("Top GPU ops", "kernel_breakdown", None),
        section("Top CPU operators", "cpu_ops",
                 lambda df: charts.bars(df["name"][:15].to_list(), df["total_ns"][:15].to_list(), "ms", 1e6)),
        section("Operators against the roofline", "op_roofline", _roofline_chart),
        section("GPU time by the operator that launched it", "op_attribution", None),
        section("Why the GPU was idle", "idle_breakdown", _idle_chart),
        section("Idle gaps per stream", "idle_intervals", None),
        section("Steps", "step_times",
                 lambda df: charts.bars(df["step"].to_list(), df["dur_ns"].to_list(), "ms", 1e6)),
        section("One step, lane by lane", "step_timeline", lambda df: charts.gantt(df.to_dicts()),
                 limit=10),
        section("Launch-bound or GPU-bound, step by step", "launch_bound",
                 lambda df: charts.bars([f"{w} ({v})" for w, v in zip(df["window"][:50], df["verdict"][:50])],
                                  df["gpu_busy_pct"][:50].to_list(), "% GPU busy", 1)),
        section("Communication hidden under compute", "comm_overlap", None),
        section("Collectives by type and size", "collective_bandwidth", None),
        section("Launch latency", "launch_latency", None),
        section("Copy bandwidth", "memcpy_bandwidth", None),
        section("Copy bandwidth over time", "memory_bandwidth_timeline", _bandwidth_chart, limit=0),
        section("Host blocked in synchronization", "sync_stalls", None),
    ]
    if info["format"] == "replay":
        sections.append(section("Critical path by step and resource", "critical_path_shares",
                                 lambda df: charts.bars([f"{s or 'whole trace'} {r}" for s, r in zip(df["step"], df["resource"])],
                                                  df["time_ns"].to_list(), "ms", 1e6)))
    if info["format"] == "replay" and "topology" in _scenario(info["scenario"]):  # saved on a topology
        sections += [
            section("The server's links by peak demand", "link_tree",
                    lambda df: charts.tree(df.filter(pl.col("server") == df.sort("peak_demand")["server"][-1]).to_dicts()),
                    limit=0),
            section("Links under load (peak demand over bandwidth)", "link_demand",
                    lambda df: charts.bars([f"server {s} {n} {d}" for s, n, d in zip(df["server"], df["link"], df["direction"])][:20],
                                           df["peak_demand"][:20].to_list(), "x its bandwidth", 1)),
            section("The busiest links over time", "link_load", _link_load_chart, limit=0),
            section("Transfers held back by shared links", "link_collisions", None),
        ]
    sections.append(section("Replays on other hardware", "replays",
                             lambda df: charts.bars([f"{_scenario_label(v)} ({_error_bar(e)})" for v, e in zip(df["scenario"], df["expected_error_pct"])],
                                              df["speedup"].to_list(), "x", 1)))
    if info["job"] is not None and info["world_size"] and info["world_size"] > 1:
        sections.append(section(f"Stragglers in job {info['job']}", "straggler_ranks",
                                 lambda df: charts.bars([f"rank {r}" for r in df["rank"]], df["times_last"].to_list(),
                                                  "times last", 1)))
    names = info["gpu_names"] or []  # deviceProperties lists every GPU of the node, often all alike
    gpus = ", ".join(f"{names.count(n)}× {n}" if names.count(n) > 1 else n for n in dict.fromkeys(names)) or "none recorded"
    rank = f"rank {info['rank']} of {info['world_size']}" if info["rank"] is not None else "no rank"
    job = f"job {info['job']}" if info["job"] is not None else "no job"
    made = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    title = str(info["source_path"]).rsplit("/", 1)[-1]
    if info["format"] == "replay":  # its source path is its parent's: say what it is
        title = f"replay of trace {info['parent_trace_id']} ({title}) under {_scenario_label(info['scenario'])}"
    warnings = "".join(f"<li>{html.escape(w)}</li>" for w in info["warnings"] or [])
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>retime report: trace {trace_id}</title>
<style>{STYLE}</style></head><body>
<h1>Trace {trace_id}: {html.escape(title)}</h1>
<p class="meta">{html.escape(info['format'])} trace · {html.escape(rank)} · {html.escape(job)} ·
GPUs: {html.escape(gpus)} · {info['events']:,} events on {info['lanes']} lanes · span {info['span_ms']} ms ·
made {made} by retime</p>
{f'<details><summary>ingest warnings</summary><ul>{warnings}</ul></details>' if warnings else ''}
{''.join(sections)}
</body></html>
"""


def _scenario(scenario) -> dict:
    """A saved replay's scenario as the JSON the store keeps it ({} where it cannot be read)."""
    import json
    try:
        return json.loads(scenario) if isinstance(scenario, str) else dict(scenario or {})
    except (TypeError, ValueError):
        return {}


def _scenario_label(scenario) -> str:
    """A saved replay's scenario in words, from the JSON the store keeps (scenario.label_of)."""
    from retime.replay.scenario import label_of
    import json
    try:
        doc = json.loads(scenario) if isinstance(scenario, str) else dict(scenario or {})
        return label_of(doc)
    except (TypeError, ValueError, AttributeError):
        return "its scenario"


def _error_bar(pct) -> str:
    return f"expected error ±{pct:.0f}%" if pct is not None else "unvalidated"


def _section(store, title: str, query: str, trace_id: int, chart, limit: int = 30, origin_ns: int | None = None) -> str:
    df = store.query(query, trace_id)
    header = f'<h2>{html.escape(title)}</h2><p class="query">retime query {query} {trace_id}</p>'
    if df.height == 0:
        return header + f'<p class="empty">Nothing to show: {html.escape(runner.catalogue()[query].empty)}.</p>'
    return header + (chart(df) if chart else "") + (_table(df, limit, origin_ns) if limit else "")


def _table(df: pl.DataFrame, limit: int = 30, origin_ns: int | None = None) -> str:
    """The first `limit` rows, times in the unit that suits them (as the terminal shows them)."""
    shown, notes = readable(df.head(limit), origin_ns=origin_ns)
    head = "".join(f"<th>{html.escape(c)}</th>" for c in shown.columns)
    rows = []
    for row in shown.iter_rows():
        rows.append("<tr>" + "".join(_cell(v) for v in row) + "</tr>")
    more = f'<p class="meta">{df.height - limit} more rows: run the query to see them.</p>' if df.height > limit else ""
    note = "".join(f'<p class="meta">{html.escape(n)}</p>' for n in notes)
    return f"<table><tr>{head}</tr>{''.join(rows)}</table>{note}{more}"


def _cell(value) -> str:
    """A table cell; text cut to CUT_AT characters keeps its whole as a tooltip."""
    text = _fmt(value)
    if len(text) <= CUT_AT:
        return f"<td>{html.escape(text)}</td>"
    return f'<td title="{html.escape(text)}">{html.escape(text[:CUT_AT - 1])}…</td>'


def _fmt(value) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.0f}" if value.is_integer() and abs(value) >= 1000 else f"{value:,.6g}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def _temporal_chart(df: pl.DataFrame) -> str:
    rows = [(f"GPU {r['device']}", {"compute": r["compute_ns"], "communication": r["communication_ns"],
                                    "memory": r["memory_ns"], "idle": r["idle_ns"]}) for r in df.to_dicts()]
    return charts.stacked(rows, RESOURCE_COLORS)


def _idle_chart(df: pl.DataFrame) -> str:
    by_stream: dict[str, dict[str, float]] = {}
    for r in df.to_dicts():
        parts = by_stream.setdefault(f"GPU {r['device']} stream {r['stream']}", {c: 0 for c in CAUSE_COLORS})
        parts[r["cause"]] += r["idle_ns"]
    return charts.stacked(list(by_stream.items()), CAUSE_COLORS, to_scale=True)  # a 145 µs stream is not an 11 ms one


def _roofline_chart(df: pl.DataFrame) -> str:
    rows = df.to_dicts()
    roofs = {}
    for r in rows:
        if r["compute_roof_tflops"]:
            units = "matrix" if r["category"] in ("gemm", "attention", "conv") else "vector FP32"
            roofs.setdefault(r["compute_roof_tflops"], f"{units} {r['dtype']}" if units == "matrix" else units)
    points = [{"flop_per_byte": r["flop_per_byte"], "achieved_tflops": r["achieved_tflops"], "category": r["category"],
               "label": f"{r['op']} {r['dims']} {r['dtype']}: {r['achieved_tflops']} TFLOPS, {r['pct_of_roof']}% of roof"}
              for r in rows]
    hbm = next((r["memory_roof_tb_s"] for r in rows if r["memory_roof_tb_s"]), None)
    return charts.roofline(points, [(dtype, peak) for peak, dtype in sorted(roofs.items())], hbm)


def _link_load_chart(df: pl.DataFrame) -> str:
    """Utilization over time of the four link directions that carried the most bytes."""
    busiest = (df.group_by("server", "link", "direction").agg(pl.col("bytes").sum()).sort("bytes", descending=True)
               .head(4).select("server", "link", "direction"))
    series: dict[str, list[tuple[float, float]]] = {}
    for r in df.join(busiest, on=["server", "link", "direction"]).to_dicts():
        series.setdefault(f"server {r['server']} {r['link']} {r['direction']}", []).append(
            (r["start_ns"] / 1e6, 100 * r["utilization"]))
    return charts.timeline(series, "% of the link")


def _bandwidth_chart(df: pl.DataFrame) -> str:
    series: dict[str, list[tuple[float, float]]] = {}
    for r in df.to_dicts():
        series.setdefault(f"GPU {r['device']} {r['direction']}", []).append((r["offset_ms"], r["gbps"]))
    return charts.timeline(series, "GB/s")
