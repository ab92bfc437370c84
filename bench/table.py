"""Print the README's table of the latest benchmark figures from bench/results/*.json.

    python bench/table.py [bench/results/2026-11-28-sqlite.json ...]   (default: the newest file per database)
"""
import glob
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def latest() -> list[str]:
    files = []
    for db in ("sqlite", "postgresql"):
        found = sorted(glob.glob(os.path.join(HERE, "results", f"*-{db}.json")))
        if found:
            files.append(found[-1])
    return files


# The HTTP bars (bench/run.py BARS): each path's p50 against its probe's from the same run.
HTTP = (("scoring", "probe_read", 5.0), ("results", "probe_read", 3.0), ("autosave", "probe_write", 3.0))
KB = 1024


def mark(ratio: float, bar: float) -> str:
    return f"{ratio:.2f}×" + ("" if ratio <= bar else " ✗")


def rows(report: dict) -> list[str]:
    out = []
    db = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}[report["db"]]
    for size in report["sizes"]:
        label = f"{db} {size['size']} ({size['units']:,} units)"
        r, s, w = size["results"], size["subsidy"], size["workbook"]
        line = (f"| {label} | {r['s']:.2f} s / {r['floor_s']:.2f} s: {mark(r['ratio'], r['bar'])} "
                f"| {s['s']:.2f} s / {s['floor_s']:.2f} s: {mark(s['ratio'], s['bar'])}, {s['peak_mb']:.0f} MB "
                f"| {w['s']:.2f} s / {w['floor_s']:.2f} s: {mark(w['ratio'], w['bar'])} ")
        http = size.get("http")
        if http:
            for path, probe, bar in HTTP:
                p = http[path]
                against = (mark(p['p50_ms'] / http[probe]['p50_ms'], bar) if probe in http else "—")
                line += f"| {p['p50_ms']:.1f} / {p['p95_ms']:.1f} / {p['p99_ms']:.1f} ms, {against} "
            line += f"| {http['probe_read']['p50_ms']:.1f} / {http['probe_write']['p50_ms']:.1f} ms " \
                if "probe_read" in http else "| — "
        out.append(line + "|")
    growth = report.get("growth") or {}
    if growth:
        out.append(f"| {db}: growth of time per unit, 1/16 → full (largest rise between two sizes; floor's) | "
                   + " | ".join(mark(growth[k]["end_to_end"], 1.5) + f" ({growth[k]['largest_rise']:.2f}×; "
                                f"{growth[k]['floor_end_to_end']:.2f}×)" for k in ("results", "subsidy", "workbook"))
                   + " | | | | |")
    return out


def load_rows(report: dict) -> list[str]:
    out = []
    db = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}[report["db"]]
    for size in report["sizes"]:
        load = (size.get("http") or {}).get("load")
        if not load:
            continue
        line = f"| {db} {size['size']} | {load['concurrency']} "
        for path in ("scoring", "autosave", "results"):
            p = load[path]
            line += f"| {p['p50_ms']:.1f} / {p['p95_ms']:.1f} / {p['p99_ms']:.1f} ms, {p['ratio_p50']:.2f}× "
        out.append(line + f"| {load['healthz']['p50_ms']:.1f} ms |")
    return out


def _timed(http: dict, path: str) -> str:
    return f"{http[path]['p50_ms']:.1f} ms, {http[path]['ratio_p50']:.2f}×"


def healthz_rows(report: dict) -> list[str]:
    """Each path and probe against /healthz (the bars before issue 16; reported, not checked: the ratio moves with
    the processor)."""
    out = []
    db = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}[report["db"]]
    for size in report["sizes"]:
        http = size.get("http") or {}
        if "probe_read" not in http:
            continue
        cells = [_timed(http, p) for p in ("probe_read", "scoring", "results", "probe_write", "autosave")]
        out.append(f"| {db} {size['size']} | " + " | ".join(cells) + f" | {http['healthz']['p50_ms']:.1f} ms |")
    return out


def weight_rows(report: dict) -> list[str]:
    """The scoring page's bytes on the wire (bench/web.py weight())."""
    out = []
    db = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}[report["db"]]
    for size in report["sizes"]:
        w = (size.get("http") or {}).get("weight")
        if not w:
            continue
        page = w["page"]
        assets = sum(a["wire_bytes"] for a in w["assets"])
        first = w["first_visit_bytes"] / KB
        repeat = w["repeat_visit_bytes"] / KB
        out.append(f"| {db} {size['size']} | {page['html_bytes'] / KB:.1f} KB | {page['wire_bytes'] / KB:.1f} KB "
                   f"({page['encoding']}) | {len(w['assets'])}, {assets / KB:.1f} KB "
                   f"| {first:.1f} KB{'' if first <= 120 else ' ✗'} "
                   f"| {repeat:.1f} KB{'' if repeat <= 15 else ' ✗'}, {w['repeat_visit_asset_requests']} asset "
                   f"requests{'' if w['repeat_visit_asset_requests'] == 0 else ' ✗'} |")
    return out


def main():
    files = sys.argv[1:] or latest()
    reports = [json.load(open(f, encoding="utf-8")) for f in files]
    print("Times: medians of the runs (path / floor); ratios: the median of the pairs' ratios (bench/run.py).\n")
    print("| database, size | round results vs SQL scan (≤ 2×) | eligibility sheet vs same cells (≤ 1.5×), peak "
          "| district workbook vs same cells (≤ 1.5×) | scoring page p50/p95/p99 (1 client), p50 vs the one-row read "
          "(≤ 5×) | results page, vs the one-row read (≤ 3×) | autosave, vs the one-row write (≤ 3×) "
          "| probes p50: read / write |")
    print("|---|---|---|---|---|---|---|---|")
    for report in reports:
        for line in rows(report):
            print(line)
    loaded = [line for report in reports for line in load_rows(report)]
    if loaded:
        print("\nUnder load (one client per core; reported, not checked): p50 / p95 / p99, p50 vs healthz\n")
        print("| database, size | clients | scoring page | autosave | results page | healthz p50 |")
        print("|---|---|---|---|---|---|")
        for line in loaded:
            print(line)
    probes = [line for report in reports for line in healthz_rows(report)]
    if probes:
        print("\nAgainst `GET /healthz` (1 client; reported, not checked: the ratio moves with the processor): p50, "
              "p50 vs healthz\n")
        print("| database, size | one-row read (probe) | scoring page | results page | one-row write (probe) "
              "| autosave | healthz p50 |")
        print("|---|---|---|---|---|---|---|")
        for line in probes:
            print(line)
    weights = [line for report in reports for line in weight_rows(report)]
    if weights:
        print("\nThe scoring page on the wire, as a browser asks for it (status line, headers and body; bench/web.py): "
              "first visit ≤ 120 KB, repeat visit ≤ 15 KB with no asset request\n")
        print("| database, size | page HTML | page on the wire | assets (first visit) | first visit | repeat visit |")
        print("|---|---|---|---|---|---|")
        for line in weights:
            print(line)
    for report in reports:
        print(f"\n{report['db']}: {report['date']}, {report.get('cpu', 'CPU not recorded')}, {report['cores']} cores, "
              f"{report['memory_gb']} GiB, Python "
              f"{report['python']}, median of {report['runs']} pairs, {report['seconds']} s; "
              f"bars missed: {', '.join(report['misses']) or 'none'}")


if __name__ == "__main__":
    main()
