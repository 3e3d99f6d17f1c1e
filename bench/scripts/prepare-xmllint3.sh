#!/bin/bash
# A bash hook as most are written: stdin saved in a variable, then one xmllint --xpath call per value
# (name, UUID, one metadata value). Called with "verify" as the extra argument ($4) it prints "name|uuid|owner".
case "$2" in
prepare | start | started | reconnect) ;;
*) exit 0 ;;
esac
xml=$(cat)
name=$(xmllint --xpath 'string(/domain/name)' - <<<"$xml") || exit 1
uuid=$(xmllint --xpath 'string(/domain/uuid)' - <<<"$xml") || exit 1
owner=$(xmllint --xpath "string(/domain/metadata/*[local-name()='bench' and namespace-uri()='https://hookkit.dev/bench/1']/@owner)" - <<<"$xml") || exit 1
if [ -z "$name" ] || [ -z "$uuid" ] || [ -z "$owner" ]; then
	echo "$0: the domain lacks a name, a UUID or the bench metadata" >&2
	exit 1
fi
if [ "$4" = verify ]; then
	echo "$name|$uuid|$owner"
fi
