"""Inline SVG charts for the HTML report: plain shapes, no scripts, readable offline."""
from __future__ import annotations

import html
import math

def bars(labels: list, values: list, unit: str, scale: float) -> str:
    """Horizontal bars, one per label (its full text as a tooltip where it is cut); whole numbers
    (counts) are written without decimals."""
    top = max((v or 0) for v in values) or 1
    height = 22 * len(labels) + 10
    counts = scale == 1 and all(float(v or 0).is_integer() for v in values)
    bars = []
    for n, (label, value) in enumerate(zip(labels, values)):
        y = 5 + 22 * n
        width = 560 * (value or 0) / top
        shown = f"{(value or 0) / scale:,.0f}" if counts else f"{(value or 0) / scale:,.2f}"
        bars.append(f'<text x="0" y="{y + 14}">{_cut(str(label), 40)}</text>'
                    f'<rect x="260" y="{y}" width="{width:.1f}" height="16" fill="#3b7dd8"/>'
                    f'<text x="{265 + width:.1f}" y="{y + 13}">{shown} {html.escape(unit)}</text>')
    return f'<svg width="960" height="{height}" role="img">{"".join(bars)}</svg>'


def _cut(text: str, limit: int) -> str:
    """SVG text of at most `limit` characters, the whole of it as a tooltip when cut."""
    if len(text) <= limit:
        return html.escape(text)
    return f"{html.escape(text[:limit - 1])}…<title>{html.escape(text)}</title>"


def stacked(rows: list[tuple[str, dict[str, float]]], colors: dict[str, str], to_scale: bool = False,
            unit: str = "ms", scale: float = 1e6) -> str:
    """One bar per row, split into the given parts: each 100% wide, or with `to_scale` as long as
    its total against the longest row's, written at its end (in `unit`, values / `scale`)."""
    height = 26 * len(rows) + 10
    longest = max((sum(parts.values()) for _, parts in rows), default=0) or 1
    shapes = []
    for n, (label, parts) in enumerate(rows):
        y, x = 5 + 26 * n, 140.0
        total = sum(parts.values()) or 1
        full = 700 * total / longest if to_scale else 780
        shapes.append(f'<text x="0" y="{y + 14}">{_cut(label, 22)}</text>')
        for part, value in parts.items():
            width = full * value / total
            if width > 0:
                shapes.append(f'<rect x="{x:.1f}" y="{y}" width="{width:.1f}" height="18" fill="{colors[part]}">'
                              f'<title>{html.escape(part)}: {100 * value / total:.1f}%</title></rect>')
            x += width
        if to_scale:
            shapes.append(f'<text x="{x + 5:.1f}" y="{y + 14}">{sum(parts.values()) / scale:,.2f} {html.escape(unit)}</text>')
    legend = "".join(f'<span><i style="background:{c}"></i>{html.escape(p)}</span>' for p, c in colors.items())
    return f'<svg width="960" height="{height}" role="img">{"".join(shapes)}</svg><p class="legend">{legend}</p>'


ROOFLINE_COLORS = {"gemm": "#3b7dd8", "attention": "#d8523b", "conv": "#2f9e6e", "norm": "#8a5cc2",
                   "elementwise": "#e8b04b", "other": "#9aa1aa"}


def roofline(points: list[dict], roofs: list[tuple[str, float]], hbm_tb_s: float | None) -> str:
    """Log-log roofline: each point (flop_per_byte, achieved_tflops, category, label) against the
    memory roof (intensity x HBM TB/s) and each compute roof (label, TFLOPS)."""
    points = [p for p in points if p["flop_per_byte"] and p["achieved_tflops"]]
    if not points:
        return ""
    xs = [p["flop_per_byte"] for p in points]
    tops = [t for _, t in roofs if t] + [p["achieved_tflops"] for p in points]
    x_lo, x_hi = math.floor(math.log10(min(xs + [0.1]))), math.ceil(math.log10(max(xs + [1000.0])))
    y_lo, y_hi = math.floor(math.log10(min(p["achieved_tflops"] for p in points))), math.ceil(math.log10(max(tops)))
    w, h, left, top = 760, 360, 60, 10

    def px(x: float) -> float:
        return left + w * (math.log10(x) - x_lo) / max(x_hi - x_lo, 1)

    def py(y: float) -> float:
        return top + h - h * (math.log10(y) - y_lo) / max(y_hi - y_lo, 1)

    shapes = [f'<rect x="{left}" y="{top}" width="{w}" height="{h}" fill="none" stroke="#dde1e6"/>']
    for e in range(x_lo, x_hi + 1):
        shapes.append(f'<text x="{px(10 ** e) - 10:.1f}" y="{top + h + 16}">1e{e}</text>')
    for e in range(y_lo, y_hi + 1):
        shapes.append(f'<text x="10" y="{py(10 ** e) + 4:.1f}">1e{e}</text>')
    shapes.append(f'<text x="{left + w / 2 - 80}" y="{top + h + 34}">FLOPs per byte (log)</text>')
    for label, peak in roofs:
        if not peak or not hbm_tb_s:
            continue
        ridge = peak / hbm_tb_s
        x0 = 10 ** x_lo
        shapes.append(f'<polyline fill="none" stroke="#1d2430" stroke-width="1.5" points="{px(x0):.1f},'
                      f'{py(max(x0 * hbm_tb_s, 10 ** y_lo)):.1f} {px(ridge):.1f},{py(peak):.1f} {px(10 ** x_hi):.1f},{py(peak):.1f}"/>'
                      f'<text x="{px(10 ** x_hi) - 150:.1f}" y="{py(peak) - 4:.1f}">{html.escape(label)} {peak:,.0f} TFLOPS</text>')
    for p in points:
        color = ROOFLINE_COLORS.get(p["category"], ROOFLINE_COLORS["other"])
        shapes.append(f'<circle cx="{px(p["flop_per_byte"]):.1f}" cy="{py(p["achieved_tflops"]):.1f}" r="4" fill="{color}" '
                      f'fill-opacity=".75"><title>{html.escape(p["label"])}</title></circle>')
    legend = "".join(f'<span><i style="background:{c}"></i>{html.escape(k)}</span>' for k, c in ROOFLINE_COLORS.items())
    return (f'<svg width="960" height="{h + 50}" role="img">{"".join(shapes)}</svg>'
            f'<p class="legend">{legend} (achieved TFLOPS, log; lines: the roofs)</p>')


def timeline(series: dict[str, list[tuple[float, float]]], unit: str) -> str:
    """One line per series of (x, y) points, x and y on linear axes from 0."""
    if not series:
        return ""
    x_hi = max(x for pts in series.values() for x, _ in pts) or 1
    y_hi = max(y for pts in series.values() for _, y in pts) or 1
    w, h, left, top = 760, 200, 60, 10
    palette = ["#3b7dd8", "#d8523b", "#2f9e6e", "#8a5cc2", "#e8b04b", "#9aa1aa"]
    shapes = [f'<rect x="{left}" y="{top}" width="{w}" height="{h}" fill="none" stroke="#dde1e6"/>',
              f'<text x="5" y="{top + 10}">{y_hi:,.2f}</text><text x="5" y="{top + h}">0 {html.escape(unit)}</text>',
              f'<text x="{left + w - 60}" y="{top + h + 16}">{x_hi:,.1f} ms</text>']
    legend = []
    for n, (name, pts) in enumerate(series.items()):
        color = palette[n % len(palette)]
        coords = " ".join(f"{left + w * x / x_hi:.1f},{top + h - h * y / y_hi:.1f}" for x, y in sorted(pts))
        shapes.append(f'<polyline fill="none" stroke="{color}" stroke-width="1.5" points="{coords}"/>')
        legend.append(f'<span><i style="background:{color}"></i>{html.escape(name)}</span>')
    return f'<svg width="960" height="{h + 30}" role="img">{"".join(shapes)}</svg><p class="legend">{"".join(legend)}</p>'


GANTT_COLORS = {"cpu_op": "#3b7dd8", "python": "#9cc1ee", "annotation": "#c9ccd1", "runtime": "#e8b04b",
                "driver": "#e8b04b", "kernel": "#2f9e6e", "memcpy": "#8a5cc2", "memset": "#b59ad9",
                "collective": "#e0883b"}


def gantt(events: list[dict], unit: str = "ms", scale: float = 1e6) -> str:
    """A timeline: one row per lane (CPU threads first, then GPU streams, each by name), each event
    (lane, kind, name, start_ns, dur_ns) a bar from its start, colored by kind, its name and length
    as a tooltip."""
    if not events:
        return ""
    lanes = sorted({e["lane"] for e in events}, key=lambda lane: (not lane.startswith("CPU"), lane))
    end = max(e["start_ns"] + e["dur_ns"] for e in events) or 1
    w, left, row = 760, 180, 20
    place = {lane: n for n, lane in enumerate(lanes)}
    shapes = [f'<text x="0" y="{14 + row * n}">{_cut(lane, 26)}</text>' for lane, n in place.items()]
    for e in sorted(events, key=lambda e: -e["dur_ns"]):  # the long ones first, so short ones draw on top
        y = 2 + row * place[e["lane"]]
        x, width = left + w * e["start_ns"] / end, max(w * e["dur_ns"] / end, 0.5)
        color = GANTT_COLORS.get(e["kind"], "#9aa1aa")
        shapes.append(f'<rect x="{x:.1f}" y="{y}" width="{width:.1f}" height="16" fill="{color}" fill-opacity=".85">'
                      f'<title>{html.escape(str(e["name"]))}: {e["dur_ns"] / scale:,.3f} {unit} at {e["start_ns"] / scale:,.3f}'
                      f'</title></rect>')
    height = row * len(lanes) + 24
    shapes.append(f'<text x="{left}" y="{height - 4}">0</text><text x="{left + w - 60}" y="{height - 4}">'
                  f'{end / scale:,.3f} {unit}</text>')
    kinds = dict.fromkeys(e["kind"] for e in events)
    legend = "".join(f'<span><i style="background:{GANTT_COLORS.get(k, "#9aa1aa")}"></i>{html.escape(k)}</span>' for k in kinds)
    return f'<svg width="960" height="{height}" role="img">{"".join(shapes)}</svg><p class="legend">{legend}</p>'


def tree(links: list[dict], legend: bool = True) -> str:
    """A server as a tree of links (rows of link, parent, gb_s, peak_demand, as the link_tree query
    gives them): every node under its parent, each link drawn in the colour of its peak demand
    (under 80% of its bandwidth, 80-100%, over 100%), with its numbers as a tooltip. A NIC's
    network port is drawn as a stub below its NIC, a GPU's NVLink port below its GPU. `legend`: the colours' key after the drawing."""
    from retime.replay.topology import FABRIC, NETWORK, PORT, SWITCH_FABRIC
    parent = {r["link"]: (r["link"].rsplit(".", 1)[0] if r["parent"] in (NETWORK, SWITCH_FABRIC) else r["parent"])
              for r in links}
    info = {r["link"]: r for r in links}
    children: dict[str, list[str]] = {}
    for node, up in parent.items():
        children.setdefault(up, []).append(node)
    roots = [n for n in children if n not in parent]
    x_of: dict[str, float] = {}
    depth: dict[str, int] = {}
    leaves = [0]

    def place(node: str, level: int) -> None:
        depth[node] = level
        kids = sorted(children.get(node, []), key=lambda n: (n.startswith("cpu"), n))
        if not kids:
            x_of[node] = leaves[0]
            leaves[0] += 1
            return
        for kid in kids:
            place(kid, level + 1)
        x_of[node] = sum(x_of[k] for k in kids) / len(kids)

    for root in sorted(roots):
        place(root, 0)
    step_x, step_y, w, h = 34, 60, 30, 18
    width, height = max(leaves[0], 1) * step_x + 20, (max(depth.values(), default=0) + 1) * step_y + 10
    shapes = []
    for node, up in parent.items():
        r = info[node]
        peak = r["peak_demand"] or 0
        color = "#d8523b" if peak > 1 else "#e8b04b" if peak >= 0.8 else "#9aa1aa" if not r["bytes"] else "#3b7dd8"
        x1, y1 = 10 + x_of[up] * step_x + w / 2, 5 + depth[up] * step_y + h
        x2, y2 = 10 + x_of[node] * step_x + w / 2, 5 + depth[node] * step_y
        tip = f"{node} to {r['parent']}: {r['gb_s']:g} GB/s each way" + (
            f", {r['bytes']:,} bytes, peak demand {peak:.2f}x" if r["bytes"] is not None else "")
        shapes.append(f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="{color}" '
                      f'stroke-width="{4 if r["bytes"] else 1.5}"><title>{html.escape(tip)}</title></line>')
    for node in depth:
        x, y = 10 + x_of[node] * step_x, 5 + depth[node] * step_y
        label = "port" if node.endswith(PORT) else "nvl" if node.endswith(FABRIC) else node
        shapes.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{w}" height="{h}" fill="#f4f5f7" stroke="#9aa1aa"/>'
                      f'<text x="{x + 2:.1f}" y="{y + 13:.1f}" font-size="9">{html.escape(label)}</text>')
    key = ('<p class="legend"><span><i style="background:#3b7dd8"></i>under 80% of its bandwidth at peak</span>'
           '<span><i style="background:#e8b04b"></i>80-100%</span><span><i style="background:#d8523b"></i>'
           'over 100%</span><span><i style="background:#9aa1aa"></i>nothing crossed</span></p>') if legend else ""
    return f'<svg width="{width}" height="{height}" role="img">{"".join(shapes)}</svg>{key}'
