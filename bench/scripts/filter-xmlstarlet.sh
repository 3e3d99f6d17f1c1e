#!/bin/bash
# A bash restore filter: one xmlstarlet ed call changes the source file of disk vda; stdout replaces the
# domain XML. Other ops print nothing.
[ "$2" = restore ] || exit 0
exec xmlstarlet ed -u "/domain/devices/disk[target/@dev='vda']/source/@file" -v /srv/restored/vda.qcow2
