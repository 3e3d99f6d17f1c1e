#!/usr/bin/python3
"""A python3 restore filter with ElementTree: changes the source file of disk vda, prints the domain."""
import sys
import xml.etree.ElementTree as ET

if len(sys.argv) < 3 or sys.argv[2] != "restore":
    sys.exit(0)
root = ET.fromstring(sys.stdin.buffer.read())
for disk in root.findall("devices/disk"):
    target = disk.find("target")
    source = disk.find("source")
    if target is not None and target.get("dev") == "vda" and source is not None:
        source.set("file", "/srv/restored/vda.qcow2")
        break
else:
    sys.stderr.write(sys.argv[0] + ": no disk vda with a source\n")
    sys.exit(1)
sys.stdout.buffer.write(ET.tostring(root))
