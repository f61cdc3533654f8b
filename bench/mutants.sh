#!/usr/bin/env bash
# Mutation testing of fuka's measurement code (see "Mutation testing" in
# bench/README.md). It breaks the code on purpose, one change at a time, in a
# copy of the tree, and records whether some test fails (killed) or none does
# (survived).
#
#   bench/mutants.sh [-r REV] [-g] [-c] [ID ...]
#
#   -r REV  take the code and tests from git revision REV (default: the
#           working tree, untracked files included). The mutant list is always
#           the working tree's bench/mutants.txt.
#   -g      skip gremlins (operator mutants of load/ and metrics/)
#   -c      only check that every mutant of the list still applies
#   ID ...  run only these hand-made mutants (and skip gremlins)
#
# Results go to $MUT_OUT (default /tmp/fuka-mutants-out-<rev>), one line per
# mutant in hand.txt, gremlins' reports beside it, and a summary at the end.
# Every test run is `nice -n 10` with -count=1 and a timeout; the whole run
# takes ~25 minutes of wall time and less CPU (most engine tests wait on
# timers and sockets) on a 2-core machine.
set -euo pipefail

root=$(git rev-parse --show-toplevel)
cd "$root"
rev="" gremlins=1 check=0
while getopts "r:gc" o; do
	case $o in
	r) rev=$OPTARG ;;
	g) gremlins=0 ;;
	c) check=1 ;;
	*) sed -n '2,20p' "$0" >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
only=("$@")
[ ${#only[@]} -gt 0 ] && gremlins=0

list=$root/bench/mutants.txt
tag=${rev:-worktree}
out=${MUT_OUT:-${TMPDIR:-/tmp}/fuka-mutants-out-$tag}
work=${MUT_WORK:-${TMPDIR:-/tmp}/fuka-mutants-$tag}
mkdir -p "$out"

# The copy: a fixed path, so the build cache serves every mutant after the
# first.
rm -rf "$work"
mkdir -p "$work"
if [ -n "$rev" ]; then
	git archive "$rev" | tar -x -C "$work"
else
	git ls-files -co --exclude-standard -z | xargs -0 cp --parents -t "$work"
fi

# fields ID file n from to packages run, with \n and \t in from and to
# standing for a newline and a tab.
parse() {
	awk -F ' ~~ ' '/^[A-Z][0-9][0-9] ~~ / { printf "%s\x1f%s\x1f%s\x1f%s\x1f%s\x1f%s\x1f%s\n", $1, $2, $3, $4, $5, $6, $7 }' "$list"
}

# apply FILE N FROM TO: replace the N-th occurrence; exit 1 if there is none.
apply() {
	F="$2" T="$3" N="$1" perl -0777 -i -e '
		my ($f, $t, $n) = ($ENV{F}, $ENV{T}, $ENV{N});
		for ($f, $t) { s/\\n/\n/g; s/\\t/\t/g; }
		local $/; my $s = <>; my ($i, $pos) = (0, -1);
		while ($i < $n) { $pos = index($s, $f, $pos + 1); exit 1 if $pos < 0; $i++; }
		substr($s, $pos, length($f)) = $t; print $s;
	' "$4" || return 1
}

# count FILE FROM: occurrences of FROM in FILE.
count() {
	F="$2" perl -0777 -ne 'my $f = $ENV{F}; $f =~ s/\\n/\n/g; $f =~ s/\\t/\t/g;
		my $c = () = /\Q$f\E/g; print $c' "$1"
}

if [ $check = 1 ]; then
	bad=0
	while IFS=$'\x1f' read -r id file n from to pkgs run; do
		c=$(count "$work/$file" "$from")
		if [ "$c" -lt "$n" ]; then
			echo "$id: '$from' occurs $c times in $file, want at least $n"
			bad=1
		elif [ "$c" -gt 1 ] && [ "$n" = 1 ]; then
			echo "$id: note: '$from' occurs $c times in $file; the first is mutated"
		fi
	done < <(parse)
	exit $bad
fi

# MUT_SKIP: a -skip regexp for tests that cannot pass unmutated on this
# machine (say so when you report the score).
gotest() { # packages run
	(cd "$work" && timeout 900 nice -n 10 go test -count=1 -failfast -timeout 200s -run "$2" -skip "${MUT_SKIP:-^$}" $1)
}

gbin=${GREMLINS:-$(command -v gremlins || echo "$(go env GOPATH)/bin/gremlins")}
if [ $gremlins = 1 ]; then
	if [ -x "$gbin" ]; then
		# Every operator gremlins knows, over whole packages whose tests are
		# fast; NOT COVERED means no test runs that code (a survivor too).
		for p in load metrics; do
			echo "gremlins ./$p ..."
			(cd "$work" && nice -n 10 "$gbin" unleash --invert-assignments --remove-self-assignments \
				--invert-logical --invert-loopctrl --workers 1 --test-cpu 1 --timeout-coefficient 20 \
				-o "$out/gremlins-$p.json" "./$p" >"$out/gremlins-$p.txt" 2>&1) || true
			grep -E "^(Killed|Timed out)" "$out/gremlins-$p.txt" | tr '\n' ' '
			echo
		done
	else
		echo "gremlins not found (go install github.com/go-gremlins/gremlins/cmd/gremlins@v0.6.0); skipped"
	fi
fi

# The tests must pass unmutated, or a failure would say nothing.
declare -A base=()
nbase=0
while IFS=$'\x1f' read -r id file n from to pkgs run; do
	[ ${#only[@]} -gt 0 ] && [[ ! " ${only[*]} " == *" $id "* ]] && continue
	k="$pkgs|$run"
	[ -n "${base[$k]:-}" ] && continue
	nbase=$((nbase + 1))
	log=$out/baseline-$nbase.log
	# Twice: a timing test may fail once on a busy machine.
	if gotest "$pkgs" "$run" >"$log" 2>&1 || gotest "$pkgs" "$run" >"$log" 2>&1; then
		base[$k]=ok
	else
		base[$k]=fail
		echo "baseline fails: $pkgs -run '$run' (see $log)"
	fi
done < <(parse)

# judge packages run log: KILLED by the first failing test, once that test
# fails again when run alone; a test that passes alone failed for the busy
# machine, not for the mutant: it is skipped and the rest run again (three
# rounds at most).
judge() {
	local skip=${MUT_SKIP:-^$} flaky="" who round
	for round in 1 2 3; do
		if MUT_SKIP=$skip gotest "$1" "$2" >"$3" 2>&1; then
			echo "SURVIVED${flaky:+ (flaky: $flaky)}"
			return
		fi
		# the first failing top-level test; a build failure or panic shows as FAIL
		who=$(grep -m1 -oE -- '^--- FAIL: [^ ]+|^panic:' "$3" | sed 's/^--- FAIL: //')
		if [ -z "$who" ] || [ "$who" = panic: ]; then
			echo "KILLED by ${who:-FAIL}"
			return
		fi
		if ! MUT_SKIP=$skip gotest "$1" "^$who\$" >>"$3" 2>&1; then
			echo "KILLED by $who"
			return
		fi
		flaky="$flaky $who"
		skip="$skip|^$who\$"
	done
	echo "SURVIVED (flaky:$flaky)"
}

res=$out/hand.txt
: >"$res"
killed=0 survived=0 other=0
while IFS=$'\x1f' read -r id file n from to pkgs run; do
	[ ${#only[@]} -gt 0 ] && [[ ! " ${only[*]} " == *" $id "* ]] && continue
	f=$work/$file
	cp "$f" "$f.orig"
	st=""
	if [ "${base[$pkgs|$run]}" != ok ]; then
		st=BASELINE-FAILS
	elif ! apply "$n" "$from" "$to" "$f"; then
		st=MISSING # the code changed: update bench/mutants.txt
	elif ! (cd "$work" && go build $pkgs >/dev/null 2>&1); then
		st=NOT-VIABLE
	else
		t0=$(date +%s)
		st=$(judge "$pkgs" "$run" "$out/$id.log")
		st="$st ($(($(date +%s) - t0))s)"
	fi
	mv "$f.orig" "$f"
	case $st in KILLED*) killed=$((killed + 1)) ;; SURVIVED*) survived=$((survived + 1)) ;; *) other=$((other + 1)) ;; esac
	printf '%s %s %s: %s => %s\n' "$id" "$st" "$file" "$from" "$to" | tee -a "$res"
done < <(parse)
echo "hand-made: killed $killed, survived $survived, other $other" | tee -a "$res"
