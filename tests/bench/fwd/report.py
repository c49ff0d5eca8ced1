#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Formats the forwarding benchmark's results (tests/bench/fwd/guest.sh).

report.py DIR [--icount DIR2] [--host-cpu TEXT] [--date TEXT] [--doc FILE]
          [--lookup FILE]

Reads DIR/meta.tsv, variants.tsv, results.tsv and control.tsv, prints a
Markdown report (per-variant median packets/s, the median over rounds of the
ratio to the plain runs right before and after the variant's run, the
issue's goals met or not, load rate and kernel memory per entry); with
--icount, the forwarding table and goals again from DIR2, a run whose guest
clock counted instructions (QEMU -icount); and, with
--doc, puts it into FILE between the lines "<!-- fwd-bench:begin -->" and
"<!-- fwd-bench:end -->" (appended when they are missing); with --lookup,
the lookup benchmark's report (a text file) goes between
"<!-- lookup-bench:begin/end -->" likewise.

Round 0 (warm-up) is never counted.  Exit status 1 when the input is
malformed or a variant has no counted row; performance goals never fail it.
"""

import argparse
import csv
import os
import statistics
import sys

GOALS = {
    "hook_64k": ("prr-65536", 0.90),
    "hook_1m": ("prr-1048576", 0.80),
    "vs_stock": 10.0,
    "load_rate": 200000,
    "bytes_per_entry": 64,
}
FWD_MARK = "fwd-bench"
LOOKUP_MARK = "lookup-bench"


class Malformed(Exception):
    pass


def read_tsv(path, columns):
    try:
        with open(path, newline="") as f:
            rows = list(csv.DictReader(f, delimiter="\t"))
    except OSError as e:
        raise Malformed(f"{path}: {e.strerror}") from e
    for i, row in enumerate(rows, 2):
        missing = [c for c in columns if row.get(c) in (None, "")]
        if missing:
            raise Malformed(f"{path}:{i}: no {', '.join(missing)}")
    return rows


def as_int(path, row, col):
    try:
        return int(row[col])
    except ValueError as e:
        raise Malformed(f"{path}: {col} '{row[col]}' is not a number") from e


def human(n):
    n = int(n)
    for unit, div in (("M", 1 << 20), ("K", 1 << 10)):
        if n >= div and n % div == 0:
            return f"{n // div}{unit}"
    return str(n)


def describe(v):
    n, kind = int(v["entries"]), v["kind"]
    layout = {"u": "one mask", "m": "mixed masks"}.get(v["layout"], "")
    if kind == "plain":
        return "plain forwarding, no hook"
    if kind == "prr-hook":
        return "prr hook registered, no entry for the traffic"
    if kind == "prr":
        return (f"prr, {human(n)} entries over {v['addrs']} addresses "
                f"({layout})")
    if kind == "stock":
        return (f"stock: {human(n)} nft mark rules + {human(n)} "
                f"ip rule fwmark")
    if kind == "nftmap":
        return f"nft map daddr . dport & mask, {human(n)} elements"
    return kind


def load(d):
    meta = {r["key"]: r["value"]
            for r in read_tsv(os.path.join(d, "meta.tsv"), ["key", "value"])}
    variants = read_tsv(os.path.join(d, "variants.tsv"),
                        ["name", "kind", "entries", "layout", "addrs"])
    path = os.path.join(d, "results.tsv")
    results = read_tsv(path, ["round", "variant", "injected", "usec", "sink",
                              "prr_fwd", "prr_drop", "pps", "seq"])
    for r in results:
        for col in ("round", "injected", "usec", "sink", "pps", "seq"):
            r[col] = as_int(path, r, col)
    cpath = os.path.join(d, "control.tsv")
    control = read_tsv(cpath, ["name", "entries", "counters", "load_s",
                               "slab_kb", "vmalloc_kb", "percpu_kb"])
    return meta, variants, results, control


def counted_runs(results):
    """{variant: [row, ...]} of the counted rounds (plain: several a round)."""
    table = {}
    for r in results:
        if r["round"] > 0:
            table.setdefault(r["variant"], []).append(r)
    return table


def to_plain(results):
    """{variant: {round: pps / mean pps of the plain runs next to it}}.

    guest.sh runs plain before, between and after the other variants, so
    every other run has a plain run right before and right after it.
    """
    plain = {(r["round"], r["seq"]): r["pps"] for r in results
             if r["round"] > 0 and r["variant"] == "plain"}
    out = {}
    for r in results:
        if r["round"] <= 0 or r["variant"] == "plain":
            continue
        refs = [plain[k] for k in ((r["round"], r["seq"] - 1),
                                   (r["round"], r["seq"] + 1)) if k in plain]
        if refs and min(refs) > 0:
            out.setdefault(r["variant"], {})[r["round"]] = \
                r["pps"] / statistics.mean(refs)
    return out


def ratios(norm, num, den):
    """Per-round pps(num) / pps(den), each against its own plain runs."""
    mine = norm.get(num, {})
    if den == "plain":
        return list(mine.values())
    theirs = norm.get(den, {})
    return [x / theirs[rnd] for rnd, x in mine.items()
            if theirs.get(rnd, 0) > 0]


def fmt_ratio(values):
    if not values:
        return "n/a"
    return f"{statistics.median(values):.2f}"


def verdict(value, goal, at_least=True):
    if value is None:
        return "not measured"
    ok = value >= goal if at_least else value <= goal
    return "**met**" if ok else "**not met**"


def forwarding_table(variants, runs, norm, clock):
    lines = [f"| variant | what | median kpps ({clock}) | min-max kpps | "
             "ratio to plain | extra ns/pkt |",
             "| --- | --- | ---: | ---: | ---: | ---: |"]
    plain = runs.get("plain", [])
    plain_med = (statistics.median(r["pps"] for r in plain)
                 if plain else None)
    for v in variants:
        pps = [r["pps"] for r in runs.get(v["name"], [])]
        med = statistics.median(pps)
        ratio = "1.00" if v["name"] == "plain" else \
            fmt_ratio(ratios(norm, v["name"], "plain"))
        extra = "n/a"
        if plain_med and med > 0 and plain_med > 0:
            extra = f"{1e9 / med - 1e9 / plain_med:+.0f}"
        lines.append(
            f"| {v['name']} | {describe(v)} | {med / 1000:.1f} | "
            f"{min(pps) / 1000:.1f}-{max(pps) / 1000:.1f} | "
            f"{ratio} | {extra} |")
    return lines


def integrity_lines(variants, runs):
    """Checks that every counted run forwarded what it injected."""
    out = []
    for v in variants:
        for r in runs.get(v["name"], []):
            rnd = r["round"]
            if r["injected"] and r["sink"] < 0.99 * r["injected"]:
                out.append(f"- {v['name']} round {rnd}: the sink got "
                           f"{r['sink']} of {r['injected']} packets")
            if r["prr_fwd"] not in ("-", "") and v["kind"] == "prr" and \
                    int(r["prr_fwd"]) < r["sink"] - 1:
                out.append(f"- {v['name']} round {rnd}: prr forwarded "
                           f"{r['prr_fwd']}, the sink got {r['sink']}")
    if not out:
        return ["Every counted run: the sink transmitted >= 99% of the "
                "injected packets, and prr's forwarded counter matched the "
                "sink in the prr variants."]
    return ["Runs that did not forward everything:", ""] + out


def fwd_goal_lines(variants, norm, clock):
    """The forwarding goals, judged on the runs of one clock."""
    names = {v["name"] for v in variants}
    lines = []
    for key in ("hook_64k", "hook_1m"):
        name, goal = GOALS[key]
        vals = ratios(norm, name, "plain")
        med = statistics.median(vals) if vals else None
        label = "64K entries" if key == "hook_64k" else \
            "1M entries, random keys"
        shown = f"{med:.2f}x" if med is not None else "n/a"
        lines.append(f"- prr with {label} >= {goal:.2f}x plain forwarding "
                     f"({clock}): {shown}: {verdict(med, goal)}")
    for v in variants:
        if v["kind"] != "stock":
            continue
        prr = f"prr-{v['entries']}"
        vals = ratios(norm, prr, v["name"]) if prr in names else []
        med = statistics.median(vals) if vals else None
        shown = f"{med:.1f}x" if med is not None else "n/a"
        lines.append(f"- prr >= {GOALS['vs_stock']:.0f}x the stock setup at "
                     f"{v['entries']} CPEs ({clock}): {shown}: "
                     f"{verdict(med, GOALS['vs_stock'])}")
    for v in variants:
        if v["kind"] != "nftmap":
            continue
        prr = f"prr-{v['entries']}"
        vals = ratios(norm, prr, v["name"]) if prr in names else []
        med = statistics.median(vals) if vals else None
        shown = f"{med:.2f}x" if med is not None else "n/a"
        lines.append(f"- prr not slower than the nft map at "
                     f"{v['entries']} entries ({clock}): {shown}: "
                     f"{verdict(med, 1.0)}")
    return lines


def control_goal_lines(control):
    lines = []
    for c in control:
        n = int(c["entries"])
        secs = float(c["load_s"])
        if n < 4096:
            continue
        rate = n / secs if secs > 0 else None
        shown = f"{rate:,.0f} entries/s" if rate else "n/a"
        lines.append(f"- bulk load >= {GOALS['load_rate']:,} entries/s "
                     f"({human(n)} entries, under TCG): {shown}: "
                     f"{verdict(rate, GOALS['load_rate'])}")
    for c in control:
        n = int(c["entries"])
        if n < 4096:
            continue
        per = memory_per_entry(c)
        lines.append(f"- <= {GOALS['bytes_per_entry']} bytes of kernel "
                     f"memory per entry ({human(n)} entries, entry counters "
                     f"{c['counters']}): {per:.1f} B: "
                     f"{verdict(per, GOALS['bytes_per_entry'], False)}")
    return lines


def memory_per_entry(c):
    kb = int(c["slab_kb"]) + int(c["vmalloc_kb"]) + int(c["percpu_kb"])
    return kb * 1024 / int(c["entries"])


def control_table(control, meta):
    lines = ["| table | entries | entry counters | load s | entries/s | "
             "slab B/entry | vmalloc B/entry | percpu B/entry | "
             "total B/entry |",
             "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for c in control:
        n = int(c["entries"])
        secs = float(c["load_s"])
        rate = f"{n / secs:,.0f}" if secs > 0 else "n/a"
        if n < 4096:
            # Page-granular slab and vmalloc growth: noise at this size.
            lines.append(f"| {c['name']} | {n:,} | {c['counters']} | "
                         f"{secs:.1f} | {rate} | n/a | n/a | n/a | n/a |")
            continue
        per = [int(c[k]) * 1024 / n
               for k in ("slab_kb", "vmalloc_kb", "percpu_kb")]
        lines.append(f"| {c['name']} | {n:,} | {c['counters']} | "
                     f"{secs:.1f} | {rate} | "
                     f"{per[0]:.1f} | {per[1]:.1f} | {per[2]:.1f} | "
                     f"{memory_per_entry(c):.1f} |")
    return lines


def checked_runs(variants, results):
    """The counted runs and their ratios to plain, every variant having some."""
    runs = counted_runs(results)
    norm = to_plain(results)
    for v in variants:
        if not runs.get(v["name"]):
            raise Malformed(f"variant {v['name']} has no counted run")
        if v["name"] != "plain" and not norm.get(v["name"]):
            raise Malformed(f"variant {v['name']} has no plain run next "
                            f"to it")
    return runs, norm


def icount_section(icount):
    """The same forwarding benchmark, its guest clock counting instructions."""
    meta, variants, results, _ = icount
    runs, norm = checked_runs(variants, results)
    shift = meta.get("icount", "?")
    plain = statistics.median(r["pps"] for r in runs["plain"])
    per_pkt = "?"
    if shift.isdigit() and plain > 0:
        per_pkt = f"{1e9 / plain / (1 << int(shift)):,.0f}"
    out = ["", "### Forwarding, counted in instructions", "",
           f"The same variants and tables, {meta.get('rounds', '?')} rounds, "
           f"in a guest whose clock advanced 2^{shift} ns per instruction "
           f"executed (QEMU `-icount`, one vCPU): these rates count the "
           f"instructions each packet took (plain forwarding: {per_pkt}, "
           f"pktgen's own included), not cache or TLB misses, and do not "
           f"move with the host's load.", ""]
    out += forwarding_table(variants, runs, norm, "instruction clock")
    out += [""] + integrity_lines(variants, runs)
    return out, fwd_goal_lines(variants, norm, "instruction clock")


def report(meta, variants, results, control, host_cpu, date, icount=None):
    runs, norm = checked_runs(variants, results)
    out = [f"Measured {date} on kernel {meta.get('kernel', '?')} in QEMU "
           f"(TCG, {meta.get('guest_cpus', '?')} vCPUs, pktgen on "
           f"{meta.get('pktgen_thread', '?')}); host CPU: {host_cpu}.  "
           f"{meta.get('rounds', '?')} rounds of {meta.get('seconds', '?')} s "
           f"per run after a warm-up run of {meta.get('warmup_pkts', '?')} "
           f"packets per variant; in each round plain runs before, between "
           f"and after the others, whose order rotates each round; "
           f"{meta.get('pkt_size', '?')}-byte UDP "
           f"packets, {meta.get('nexthops', '?')} distinct CPE gateways per "
           f"table.  Software emulation: absolute rates are not claimed, "
           f"only ratios to the plain runs next to each run.",
           "", "### Forwarding", ""]
    out += forwarding_table(variants, runs, norm, "TCG wall clock")
    out += ["", "Ratio to plain: median over rounds of pps(variant) / "
            "the mean pps of the plain runs right before and after it; "
            "between two variants, the quotient of those.  Extra ns/pkt: "
            "1e9/median(variant) - 1e9/median(plain), in emulated time.", ""]
    out += integrity_lines(variants, runs)
    icount_goals = []
    if icount:
        section, icount_goals = icount_section(icount)
        out += section
    out += ["", "### Control plane", ""]
    if control:
        out += control_table(control, meta)
        out += ["", f"Kernel memory: growth of SUnreclaim (slab), "
                f"VmallocUsed and Percpu in /proc/meminfo across the load; "
                f"per-CPU memory is allocated for every possible CPU "
                f"({meta.get('possible_cpus', '?')}).  Load: `prrctl -batch` "
                f"(batch support: {meta.get('prrctl_batch', '?')}), "
                f"emulated, so slower than on hardware."]
    else:
        out += ["No prr table was loaded."]
    out += ["", "### Goals (issue 6)", ""]
    out += fwd_goal_lines(variants, norm, "wall clock")
    out += icount_goals
    out += control_goal_lines(control)
    return "\n".join(out) + "\n"


def replace_block(path, mark, body):
    begin, end = f"<!-- {mark}:begin -->", f"<!-- {mark}:end -->"
    try:
        with open(path) as f:
            text = f.read()
    except FileNotFoundError:
        text = ""
    block = f"{begin}\n{body}{end}\n"
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        tail = rest.split(end, 1)[1].lstrip("\n")
        text = head + block + tail
    else:
        text = text + ("\n" if text and not text.endswith("\n\n") else "") \
            + block
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dir")
    ap.add_argument("--host-cpu", default="unknown")
    ap.add_argument("--date", default="unknown date")
    ap.add_argument("--doc")
    ap.add_argument("--lookup")
    ap.add_argument("--icount")
    args = ap.parse_args()
    try:
        meta, variants, results, control = load(args.dir)
        icount = load(args.icount) if args.icount else None
        text = report(meta, variants, results, control, args.host_cpu,
                      args.date, icount)
    except Malformed as e:
        print(f"report.py: {e}", file=sys.stderr)
        return 1
    sys.stdout.write(text)
    if args.doc:
        replace_block(args.doc, FWD_MARK, text)
        if args.lookup and os.path.exists(args.lookup):
            with open(args.lookup) as f:
                replace_block(args.doc, LOOKUP_MARK,
                              "```\n" + f.read().rstrip("\n") + "\n```\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
