#!/bin/sh
# After the tests: every namespace and lab state they created must be gone.
set -eu
left=$(ip netns list 2>/dev/null | grep -E '^bsup[0-9]+-' || true)
if [ -n "$left" ]; then
  echo "tests left network namespaces behind:" >&2
  echo "$left" >&2
  exit 1
fi
left=$(ls -d /run/bindsup-lab/bsup[0-9]*-* /etc/netns/bsup[0-9]*-* 2>/dev/null || true)
if [ -n "$left" ]; then
  echo "tests left lab state behind:" >&2
  echo "$left" >&2
  exit 1
fi
