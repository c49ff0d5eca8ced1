#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Checks that spec/prr.yaml describes include/uapi/linux/prr.h and
kmod/netlink.c: the same enums with the same names in the same order (so the
same values), the same conflict struct, and for every command the same
doit/dumpit handlers and admin permission.  Prints KTAP; exit 0 iff all agree.

usage: check_spec.py [REPO]
"""

import re
import sys

import yaml

REPO = sys.argv[1] if len(sys.argv) > 1 else "."
RESULTS = []


def c_name(prefix, name):
    return (prefix + name).upper().replace("-", "_")


def strip_comments(text):
    return re.sub(r"/\*.*?\*/", "", text, flags=re.S)


def header_enums(text):
    """enum name -> list of its member names, sentinels (__*) left out."""
    enums = {}
    for name, body in re.findall(r"enum (\w+) \{(.*?)\};", text, re.S):
        members = [m.split("=")[0].strip() for m in body.split(",")]
        enums[name] = [m for m in members if m and not m.startswith("__")]
    return enums


def header_struct(text, name):
    body = re.search(r"struct %s \{(.*?)\};" % name, text, re.S).group(1)
    return [re.split(r"\s+", m.strip())[-1] for m in body.split(";")
            if m.strip()]


def spec_enums(spec):
    """C enum name -> member names, as the spec defines them."""
    enums = {}
    for d in spec.get("definitions", []):
        if d["type"] == "enum":
            enums[d["enum-name"]] = [c_name(d["name-prefix"], e)
                                     for e in d["entries"]]
    for s in spec["attribute-sets"]:
        enums[s["enum-name"]] = [c_name(s["name-prefix"], a["name"])
                                 for a in s["attributes"]]
    ops = spec["operations"]
    enums[ops["enum-name"]] = [c_name(ops["name-prefix"], o["name"])
                               for o in ops["list"]]
    return enums


def kernel_ops(text):
    """command -> (has doit, has dumpit, admin) from struct genl_ops."""
    ops = {}
    table = re.search(r"genl_ops prr_genl_ops\[\] = \{(.*?)\n\};", text, re.S)
    for block in re.findall(r"\{(.*?)\}", table.group(1), re.S):
        cmd = re.search(r"\.cmd = (\w+)", block).group(1)
        ops[cmd] = (".doit" in block, ".dumpit" in block,
                    "GENL_UNS_ADMIN_PERM" in block)
    return ops


def check(ok, name, detail=""):
    RESULTS.append((ok, name, detail))


def main():
    header = strip_comments(open(REPO + "/include/uapi/linux/prr.h").read())
    netlink = open(REPO + "/kmod/netlink.c").read()
    spec = yaml.safe_load(open(REPO + "/spec/prr.yaml"))

    have = header_enums(header)
    want = spec_enums(spec)
    for enum in sorted(set(have) | set(want)):
        check(have.get(enum) == want.get(enum), "enum %s" % enum,
              "header %s, spec %s" % (have.get(enum), want.get(enum)))

    conflict = [d for d in spec["definitions"] if d["name"] == "conflict"][0]
    members = [m["name"] for m in conflict["members"]]
    check(header_struct(header, "prr_conflict") == members,
          "struct prr_conflict", "spec %s" % members)

    kops = kernel_ops(netlink)
    ops = spec["operations"]
    for op in ops["list"][1:]:
        cmd = c_name(ops["name-prefix"], op["name"])
        spec_op = ("do" in op, "dump" in op,
                   "uns-admin-perm" in op.get("flags", []))
        check(kops.get(cmd) == spec_op, "operation %s" % op["name"],
              "kernel (do, dump, admin) %s, spec %s" % (kops.get(cmd), spec_op))
    check(len(kops) == len(ops["list"]) - 1, "no command missing from spec",
          "kernel has %s" % sorted(kops))

    # Multicast groups: a "#define PRR_MCGRP_<NAME> "<name>"" each, and
    # every notification names one of them.
    groups = [g["name"] for g in spec.get("mcast-groups", {}).get("list", [])]
    defined = dict(re.findall(r'#define (PRR_MCGRP_\w+)\s+"([^"]*)"', header))
    for g in groups:
        check(defined.get(c_name("prr-mcgrp-", g)) == g,
              "multicast group %s" % g, "header defines %s" % defined)
    check(len(defined) == len(groups), "no multicast group missing from spec",
          "header defines %s" % sorted(defined))
    for op in ops["list"]:
        if "event" in op or "mcgrp" in op:
            check(op.get("mcgrp") in groups and "event" in op,
                  "notification %s" % op["name"],
                  "mcgrp %s, groups %s" % (op.get("mcgrp"), groups))

    print("TAP version 13")
    print("1..%d" % len(RESULTS))
    for i, (ok, name, detail) in enumerate(RESULTS, 1):
        print("%s %d %s" % ("ok" if ok else "not ok", i, name))
        if not ok:
            print("# " + detail)
    failed = sum(1 for r in RESULTS if not r[0])
    print("# spec: pass:%d fail:%d" % (len(RESULTS) - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
