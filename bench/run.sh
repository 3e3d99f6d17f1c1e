#!/bin/bash
# bench/run.sh: the whole-process benchmark of hookkit hooks against an empty Go program, hand-written Go,
# bash+xmllint/xmlstarlet and python3 hooks doing the same work. See docs/benchmarks.md for the method.
#
#   bench/run.sh            full run (200 runs per command), writes bench/results.md
#   bench/run.sh --quick    few runs, to check the script; writes the results into the temp dir only
#
# Environment: RUNS (default 200), WARMUP (20), STORM_RUNS (40), OUT (bench/results.md), ROUNDS (default 4,
# 1 with --quick: N splits the runs into N hyperfine runs of the table one after another, whose times are
# merged, so that a burst of load or a slow drift of the machine hits every row alike; 1: each table is one
# hyperfine run),
# MAXLOAD (e.g. 1.2 on 2 CPUs, the benchmark itself counts for about 1: before each hyperfine run, wait until
# the 1-minute load average is below it and the CPUs were 70% idle for 3 s, at most MAXWAIT seconds in all,
# default 1800), KEEP=1 (keep the temp dir).
set -euo pipefail

die() {
	echo "bench/run.sh: $*" >&2
	exit 1
}

bench=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$bench")
quick=0
case "${1:-}" in
--quick) quick=1 ;;
"") ;;
*) die "unknown argument $1 (usage: bench/run.sh [--quick])" ;;
esac
if ((quick)); then
	RUNS=${RUNS:-15} WARMUP=${WARMUP:-3} STORM_RUNS=${STORM_RUNS:-3}
else
	RUNS=${RUNS:-200} WARMUP=${WARMUP:-20} STORM_RUNS=${STORM_RUNS:-40}
fi
ROUNDS=${ROUNDS:-$( ((quick)) && echo 1 || echo 4)}
STORM_WARMUP=$((STORM_RUNS >= 10 ? 3 : 1))
((ROUNDS >= 1 && RUNS / ROUNDS >= 2 && STORM_RUNS / ROUNDS >= 2)) || die "ROUNDS=$ROUNDS leaves fewer than 2 runs per round"

# --- tools -----------------------------------------------------------------------------------------------
missing=()
command -v hyperfine >/dev/null || missing+=(hyperfine)
command -v xmllint >/dev/null || missing+=(libxml2-utils)
command -v xmlstarlet >/dev/null || missing+=(xmlstarlet)
if ((${#missing[@]})); then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
		echo "installing ${missing[*]} with apt-get" >&2
		DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 &&
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2 ||
			die "apt-get install ${missing[*]} failed"
	else
		die "missing ${missing[*]}: install them (sudo apt-get install ${missing[*]}) or run as root on Debian/Ubuntu"
	fi
fi
for t in go file /bin/bash /usr/bin/python3; do
	command -v "$t" >/dev/null || die "missing $t: it is needed to build or run the compared hooks"
done

T=$(mktemp -d /tmp/hookkit-bench.XXXXXX)
if [ "${KEEP:-0}" = 1 ]; then
	echo "temp dir kept: $T" >&2
else
	trap 'rm -rf "$T"' EXIT
fi
OUT=${OUT:-$( ((quick)) && echo "$T/results.md" || echo "$bench/results.md")}
mkdir -p "$T/qemu.d" "$T/dom" "$T/json"

# --- build -----------------------------------------------------------------------------------------------
# Every Go program is built with CGO_ENABLED=0: a binary that links package net or os/user with cgo is
# dynamically linked and pays the dynamic loader (about 1 ms) on every run. The hookkit binaries live in
# qemu.d/ so that hookkit derives the driver from the path, as when installed in /etc/libvirt/hooks/qemu.d.
echo "== building into $T" >&2
cd "$repo"
build() { CGO_ENABLED=0 go build -trimpath -o "$1" "$2" || die "go build $2 failed"; }
build "$T/qemu.d/hookkit" ./bench/hookkit-hook
build "$T/qemu.d/hookkit-filter" ./bench/hookkit-filter
build "$T/emptygo" ./bench/emptygo
build "$T/encxml" ./bench/encxml
build "$T/benchtool" ./bench/benchtool
cp "$bench"/scripts/*.sh "$bench"/scripts/*.py "$T/"
chmod +x "$T"/*.sh "$T"/*.py

linkage=$T/linkage.md
{
	echo "| binary | linked | size | Go packages |"
	echo "|---|---|--:|--:|"
} >"$linkage"
for b in qemu.d/hookkit:hookkit-hook qemu.d/hookkit-filter:hookkit-filter emptygo:emptygo encxml:encxml; do
	bin=$T/${b%%:*} pkg=./bench/${b##*:}
	info=$(file -b "$bin")
	case "$info" in
	*"statically linked"*) linked=static ;;
	*) die "$bin is not statically linked: $info" ;;
	esac
	size=$(($(stat -c %s "$bin") / 1024))
	npkg=$(CGO_ENABLED=0 go list -deps "$pkg" | wc -l)
	echo "| ${b##*:} | $linked | $size KiB | $npkg |" >>"$linkage"
	echo "   $(basename "$bin"): $info" | cut -c1-110 >&2
done

cp "$repo/bench/testdata/domain-1k.xml" "$T/dom/1k.xml"
cp "$repo/hookkit/testdata/domain-5k.xml" "$T/dom/5k.xml"
cp "$repo/hookkit/testdata/domain-30k.xml" "$T/dom/30k.xml"
"$T/benchtool" gendomains -in "$T/dom/5k.xml" -out "$T/storm" -n 200

# --- check that every hook does the work before timing it ------------------------------------------------
echo "== checking the hooks' answers" >&2
prepare_hooks=("$T/qemu.d/hookkit" "$T/encxml" "$T/prepare-xmllint1.sh" "$T/prepare-xmllint3.sh" "$T/prepare.py")
for size in 1k 5k 30k; do
	want=$("$T/prepare.py" vm prepare begin verify <"$T/dom/$size.xml")
	case "$want" in *"|alice") ;; *) die "python3 hook read '$want' from $size.xml" ;; esac
	for h in "${prepare_hooks[@]}"; do
		for op in prepare start started reconnect; do
			got=$("$h" vm "$op" begin verify <"$T/dom/$size.xml") || die "$h $op failed on $size.xml"
			[ "$got" = "$want" ] || die "$h $op read '$got' from $size.xml, want '$want'"
		done
	done
done
storm_want=$(cd "$T/storm" && for f in vm-*.xml; do echo "${f%.xml}"; done)
for h in "$T/qemu.d/hookkit" "$T/prepare-xmllint1.sh"; do
	got=$(for f in "$T"/storm/vm-*.xml; do n=${f##*/}; "$h" "${n%.xml}" reconnect begin verify <"$f"; done | cut -d'|' -f1)
	[ "$got" = "$storm_want" ] || die "$h did not read the 200 distinct storm domains"
done

# The filters: the output must be well-formed, disk vda must point at the new path, the name must be kept.
# "faithful" means the canonical form (xmllint --c14n) equals the input's with only that attribute changed.
newpath=/srv/restored/vda.qcow2
sed "s|/var/lib/libvirt/images/basic.qcow2|$newpath|" "$T/dom/5k.xml" | xmllint --c14n - >"$T/filter-want.c14n"
filters=$T/filters.md
{
	echo "| filter | output well-formed, vda changed | faithful (c14n equal) |"
	echo "|---|---|---|"
} >"$filters"
for f in hookkit:qemu.d/hookkit-filter "bash + xmlstarlet:filter-xmlstarlet.sh" "python3 ElementTree:filter.py"; do
	name=${f%%:*} prog=$T/${f#*:}
	"$prog" vm restore begin - <"$T/dom/5k.xml" >"$T/filter-out.xml" || die "filter $name failed"
	xmllint --noout "$T/filter-out.xml" || die "filter $name wrote malformed XML"
	src=$(xmllint --xpath "string(/domain/devices/disk[target/@dev='vda']/source/@file)" "$T/filter-out.xml")
	[ "$src" = "$newpath" ] || die "filter $name left disk vda at '$src'"
	dname=$(xmllint --xpath 'string(/domain/name)' "$T/filter-out.xml")
	[ "$dname" = virt-manager-basic ] || die "filter $name lost the domain name"
	faithful=no
	xmllint --c14n "$T/filter-out.xml" | cmp -s - "$T/filter-want.c14n" && faithful=yes
	echo "| $name | yes | $faithful |" >>"$filters"
done

# --- measure ---------------------------------------------------------------------------------------------
cpu_busy() { # percent of CPU time not idle over 3 seconds, all CPUs
	local a b
	a=$(awk '/^cpu /{print $2+$3+$4+$7+$8+$9, $5+$6}' /proc/stat)
	sleep 3
	b=$(awk '/^cpu /{print $2+$3+$4+$7+$8+$9, $5+$6}' /proc/stat)
	echo "$a $b" | awk '{busy=$3-$1; idle=$4-$2; print int(100*busy/(busy+idle+1e-9))}'
}
waited=0
wait_for_low_load() { # with MAXLOAD set, before each hyperfine run; MAXWAIT bounds the total wait
	[ -n "${MAXLOAD:-}" ] || return 0
	local max=${MAXWAIT:-1800} load
	while :; do
		load=$(cut -d' ' -f1 /proc/loadavg)
		# the load average lags by a minute: also require the CPUs to be mostly idle over the last 3 s
		awk -v l="$load" -v m="$MAXLOAD" 'BEGIN { exit !(l < m) }' && (($(cpu_busy) < 30)) && return 0
		((waited < max)) || {
			echo "   load $load (MAXLOAD $MAXLOAD) or busy CPUs after ${max}s of waiting: measuring anyway" >&2
			return 0
		}
		echo "   load $load (MAXLOAD $MAXLOAD) or busy CPUs: waiting" >&2
		sleep 20
		waited=$((waited + 20))
	done
}
wait_for_low_load
load_before=$(cut -d' ' -f1-3 /proc/loadavg)

medians=$T/medians.tsv
: >"$medians"
loads=()
# hf NAME RUNS WARMUP 'label' 'command' ...: one hyperfine run over every command of a table (ROUNDS
# runs with RUNS/ROUNDS each), no intermediate shell (-N): each command is its own `sh -c '...'`, and the
# shell floor is measured as a row.
hf() {
	local table=$1 runs=$(($2 / ROUNDS)) warmup=$3 r
	shift 3
	local args=()
	while (($#)); do
		args+=(-n "$1" "$2")
		shift 2
	done
	for ((r = 1; r <= ROUNDS; r++)); do
		wait_for_low_load
		loads+=("$(cut -d' ' -f1 /proc/loadavg)")
		echo "== measuring: $table, round $r/$ROUNDS ($runs runs per command), load ${loads[-1]}" >&2
		hyperfine -N --style basic -w "$warmup" -m "$runs" -M "$runs" --export-json "$T/json/$table.$r.json" "${args[@]}" >"$T/json/$table.$r.txt" 2>&1 ||
			die "hyperfine failed for $table: $(tail -5 "$T/json/$table.$r.txt")"
	done
}
D=$T/dom
H=$T/qemu.d/hookkit
a="vm prepare begin -"

hf prepare "$RUNS" "$WARMUP" \
	"shell floor" "sh -c 'true < $D/5k.xml'" \
	"empty Go" "sh -c '$T/emptygo < $D/5k.xml'" \
	"Go + encoding/xml" "sh -c '$T/encxml $a < $D/5k.xml'" \
	"hookkit" "sh -c '$H $a < $D/5k.xml'" \
	"bash + 1 xmllint" "sh -c '$T/prepare-xmllint1.sh $a < $D/5k.xml'" \
	"bash + 3 xmllint" "sh -c '$T/prepare-xmllint3.sh $a < $D/5k.xml'" \
	"python3 ElementTree" "sh -c '$T/prepare.py $a < $D/5k.xml'"

sizes=()
for s in 1k 5k 30k; do
	label="${s%k} KB"
	sizes+=("shell floor @ $label" "sh -c 'true < $D/$s.xml'"
		"empty Go @ $label" "sh -c '$T/emptygo < $D/$s.xml'"
		"hookkit @ $label" "sh -c '$H $a < $D/$s.xml'"
		"bash + 1 xmllint @ $label" "sh -c '$T/prepare-xmllint1.sh $a < $D/$s.xml'"
		"python3 ElementTree @ $label" "sh -c '$T/prepare.py $a < $D/$s.xml'")
done
hf sizes "$RUNS" "$WARMUP" "${sizes[@]}"

seq3() { # the start sequence libvirt runs for one VM: prepare, start, started, one process each
	echo "sh -c '$1 vm prepare begin - < $D/5k.xml && $1 vm start begin - < $D/5k.xml && $1 vm started begin - < $D/5k.xml'"
}
hf start "$RUNS" "$WARMUP" \
	"shell floor" "$(seq3 true)" \
	"empty Go" "$(seq3 "$T/emptygo")" \
	"hookkit" "$(seq3 "$H")" \
	"bash + 1 xmllint" "$(seq3 "$T/prepare-xmllint1.sh")" \
	"python3 ElementTree" "$(seq3 "$T/prepare.py")"

storm() { # libvirtd restarting with 200 running VMs: reconnect for each, one after another
	echo "sh -c 'for f in $T/storm/*.xml; do n=\${f##*/}; $1 \${n%.xml} reconnect begin - < \$f || exit 1; done'"
}
hf storm "$STORM_RUNS" "$STORM_WARMUP" \
	"shell floor" "$(storm true)" \
	"empty Go" "$(storm "$T/emptygo")" \
	"hookkit" "$(storm "$H")" \
	"bash + 1 xmllint" "$(storm "$T/prepare-xmllint1.sh")"

r="vm restore begin -"
hf filter "$RUNS" "$WARMUP" \
	"shell floor" "sh -c 'true < $D/5k.xml'" \
	"empty Go" "sh -c '$T/emptygo < $D/5k.xml'" \
	"hookkit + xmldoc" "sh -c '$T/qemu.d/hookkit-filter $r < $D/5k.xml'" \
	"bash + xmlstarlet" "sh -c '$T/filter-xmlstarlet.sh $r < $D/5k.xml'" \
	"python3 ElementTree" "sh -c '$T/filter.py $r < $D/5k.xml'"
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# --- peak RSS --------------------------------------------------------------------------------------------
echo "== peak RSS" >&2
rss=$T/rss.md
{
	echo "| program | call | stdin | peak RSS MB | ≤ 15 MB |"
	echo "|---|---|---|--:|---|"
} >"$rss"
rss_row() { # name call stdin-file argv...
	local name=$1 call=$2 in=$3 mb ok
	shift 3
	mb=$("$T/benchtool" rss -n "$( ((quick)) && echo 3 || echo 20)" -stdin "$D/$in" -- "$@") || die "rss of $name failed"
	ok=$(awk -v m="$mb" 'BEGIN { print (m <= 15 ? "yes" : "**no**") }')
	echo "| $name | $call | $in | $mb | $ok |" >>"$rss"
}
for s in 1k 5k 30k; do rss_row hookkit "prepare" "$s.xml" "$H" vm prepare begin -; done
rss_row hookkit "reconnect" 5k.xml "$H" vm reconnect begin -
for s in 5k 30k; do rss_row "hookkit + xmldoc" "restore filter" "$s.xml" "$T/qemu.d/hookkit-filter" vm restore begin -; done
rss_row "empty Go" "–" 5k.xml "$T/emptygo"
rss_row "Go + encoding/xml" prepare 5k.xml "$T/encxml"
rss_row "bash + 1 xmllint" prepare 5k.xml "$T/prepare-xmllint1.sh" vm prepare begin -
rss_row "python3 ElementTree" prepare 5k.xml "$T/prepare.py" vm prepare begin -

# --- Go benchmarks ---------------------------------------------------------------------------------------
echo "== go test -bench" >&2
gobench=$T/gobench.md
benchtime=$( ((quick)) && echo 100ms || echo 1s)
if go test -run '^$' -bench . -benchmem -benchtime "$benchtime" -count 1 ./hookkit ./hookkit/xmldoc >"$T/gobench.txt" 2>&1; then
	"$T/benchtool" gobench <"$T/gobench.txt" >"$gobench"
else
	{
		echo "go test -bench failed:"
		echo '```'
		tail -20 "$T/gobench.txt"
		echo '```'
	} >"$gobench"
fi

# --- report ----------------------------------------------------------------------------------------------
table() { "$T/benchtool" table -medians "$medians" "$@"; }
rev() { # the commit measured, or BENCH_REV when the tree is an export without .git
	local c
	if c=$(git -C "$repo" rev-parse --short HEAD 2>/dev/null); then
		# bench/results.md is this script's output: a previous run's uncommitted results are not a change.
		[ -z "$(git -C "$repo" status --porcelain -- hookkit bench ':!bench/results.md' 2>/dev/null)" ] ||
			c+=" (with uncommitted changes in hookkit/ or bench/)"
		echo "$c"
	else
		echo "${BENCH_REV:-an export without .git}"
	fi
}
{
	echo "# hookkit benchmark results"
	echo
	echo "$(date -u '+%Y-%m-%d %H:%M UTC'), \`bench/run.sh$( ((quick)) && echo ' --quick')\` at $(rev)"
	echo
	echo "- machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), Linux $(uname -r)"
	echo "- load average (1, 5, 15 min): $load_before before, $load_after after the timed runs; 1-minute load at the start of each hyperfine run: ${loads[*]}"
	echo "- $(go version | cut -d' ' -f3), hyperfine $(hyperfine --version | cut -d' ' -f2), libxml2 $(xmllint --version 2>&1 | head -1 | awk '{print $NF}'), xmlstarlet $(xmlstarlet --version | head -1), $(/usr/bin/python3 --version), $(/bin/bash --version | head -1 | sed 's/ (.*//')"
	echo "- every command is \`sh -c 'program argv < file'\` run by \`hyperfine -N\`; medians of $RUNS runs ($STORM_RUNS for the storm) after $WARMUP warm-up runs; all rows of a table in one hyperfine run$( ((ROUNDS > 1)) && echo " per round, $ROUNDS rounds merged")"
	echo
	echo "## qemu prepare begin, 5 KB domain: read name, UUID and one metadata value"
	echo
	table -key "prepare: " -floor "shell floor" -ref "empty Go" -ref "bash + 1 xmllint" "$T/json/prepare".*.json
	echo
	echo "## Domain size: the same hook on 1 KB, 5 KB and 30 KB domains"
	echo
	table -key "sizes: " -pivot " @ " -ref "empty Go" "$T/json/sizes".*.json
	echo
	echo "## Start sequence: prepare + start + started (three processes), 5 KB domain"
	echo
	table -key "start: " -floor "shell floor" -ref "empty Go" "$T/json/start".*.json
	echo
	echo "## Reconnect storm: libvirtd restarts with 200 running VMs (200 calls one after another, distinct 5 KB domains)"
	echo
	table -key "storm: " -floor "shell floor" -ref "empty Go" "$T/json/storm".*.json
	echo
	echo "## qemu restore filter, 5 KB domain: change the source file of disk vda, print the domain"
	echo
	table -key "filter: " -floor "shell floor" -ref "empty Go" -ref "bash + xmlstarlet" -ref "python3 ElementTree" "$T/json/filter".*.json
	echo
	cat "$filters"
	echo
	echo "## Targets (issues 7 and 8)"
	echo
	"$T/benchtool" check -medians "$medians" \
		"prepare: hookkit <= 1.10 * prepare: empty Go" \
		"prepare: hookkit <= 0.4 * prepare: bash + 1 xmllint" \
		"storm: hookkit <= 1.2 * storm: empty Go" \
		"filter: hookkit + xmldoc <= 0.6 * filter: bash + xmlstarlet" \
		"filter: hookkit + xmldoc <= 0.25 * filter: python3 ElementTree"
	echo
	echo "## Peak RSS (getrusage ru_maxrss, largest of the runs)"
	echo
	cat "$rss"
	echo
	echo "## Go binaries (CGO_ENABLED=0, checked with file(1))"
	echo
	cat "$linkage"
	echo
	echo "## go test -bench . -benchmem ./hookkit ./hookkit/xmldoc (-benchtime $benchtime)"
	echo
	cat "$gobench"
} >"$T/results.md.tmp"
# The medians file is filled while the tables are printed: the targets section above reads it.
if [ "$OUT" != "$T/results.md" ]; then
	cp "$T/results.md.tmp" "$OUT"
fi
cp "$T/results.md.tmp" "$T/results.md"
cat "$T/results.md"
echo >&2
echo "results written to $OUT" >&2
