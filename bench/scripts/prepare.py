#!/usr/bin/python3
"""A python3 hook that reads the domain's name, UUID and one metadata value with ElementTree.

Called with "verify" as the extra argument (argv[4]) it prints "name|uuid|owner".
"""
import os
import sys
import xml.etree.ElementTree as ET

if len(sys.argv) < 3 or sys.argv[2] not in ("prepare", "start", "started", "reconnect"):
    sys.exit(0)
root = ET.fromstring(sys.stdin.buffer.read())
name = root.findtext("name")
uuid = root.findtext("uuid")
bench = root.find("metadata/{https://hookkit.dev/bench/1}bench")
owner = bench.get("owner") if bench is not None else None
if not name or not uuid or not owner:
    sys.stderr.write(sys.argv[0] + ": the domain lacks a name, a UUID or the bench metadata\n")
    sys.exit(1)
if sys.argv[4:5] == ["verify"]:
    print(name + "|" + uuid + "|" + owner)
