#!/bin/sh
# The tests' namespaces and lab state (tests/integration/lab.cc names them
# bsup<pid>-<n>, <pid> being the test process) must be gone when the process
# that made them has ended.
#
#   check-no-leftovers.sh           fail if a lab of an ended process is left
#   check-no-leftovers.sh --stale   before the tests: remove labs whose process
#                                   ended earlier (a run that was killed), so
#                                   that they are not blamed on this one
#
# A lab whose process is still running belongs to a run going on beside this
# one (another checkout's tests) and is left alone either way.
set -eu
mode=${1:-check}

labs() {
  {
    ip netns list 2>/dev/null | sed -n 's/^\(bsup[0-9][0-9]*-[0-9][0-9]*\)-[cr]\b.*/\1/p'
    for d in /run/bindsup-lab/bsup[0-9]*-* /etc/netns/bsup[0-9]*-*; do
      [ -e "$d" ] && basename "$d" | sed -n 's/^\(bsup[0-9][0-9]*-[0-9][0-9]*\).*/\1/p'
    done
  } | sort -u
}

ended() {  # the labs whose test process is gone
  for lab in $(labs); do
    pid=${lab#bsup}
    pid=${pid%%-*}
    [ -d "/proc/$pid" ] || echo "$lab"
  done
}

left=$(ended)
[ -n "$left" ] || exit 0
if [ "$mode" = --stale ]; then
  for lab in $left; do
    echo "removing a lab an earlier, interrupted run left behind: $lab" >&2
    "$(dirname "$0")/../tests/lab/lab.sh" down "$lab"
  done
  exit 0
fi
echo "tests left network namespaces or lab state behind:" >&2
echo "$left" >&2
exit 1
