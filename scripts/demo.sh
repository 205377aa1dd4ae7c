#!/usr/bin/env bash
# make demo: a throwaway two-uplink lab, the same clients with and without
# bindsup, and which uplink each connection used.
set -euo pipefail

build=${1:-build}
root=$(cd "$(dirname "$0")/.." && pwd)
bindsup="$build/supervisor/bindsup"
tools="$build/tests"
lab="$root/tests/lab/lab.sh"
name="bsdemo$$"

if [[ $(id -u) -ne 0 ]]; then
  echo "make demo creates network namespaces: run it as root" >&2
  exit 1
fi
for f in "$bindsup" "$tools/addr_server" "$tools/goclient"; do
  [[ -x $f ]] || { echo "demo: $f is missing; run 'make build'" >&2; exit 1; }
done

trap '"$lab" down "$name"' EXIT
"$lab" up "$name" "$tools/addr_server"

# Which uplink an address belongs to.
uplink() {
  case "$1" in
    10.201.1.2|fd00:201:1::2) echo "uplink1  $1" ;;
    10.201.2.2|fd00:201:2::2) echo "uplink2  $1" ;;
    "") echo "(no answer)" ;;
    *) echo "?        $1" ;;
  esac
}

run() {  # run CMD... in the client namespace; print the address the server saw
  ip netns exec "$name-c" "$@" 2>/dev/null | tail -n 1 | sed 's/^peer //' | tr -d '\r' || true
}

row() {  # row LABEL CMD...
  local label=$1
  shift
  local plain bound
  plain=$(run "$@")
  bound=$(run "$bindsup" -i uplink2 -- "$@")
  printf '  %-26s %-26s %s\n' "$label" "$(uplink "$plain")" "$(uplink "$bound")"
}

cat <<TEXT

bindsup demo: one client, two uplinks to the same server.
  uplink1  10.201.1.2  fd00:201:1::2   the default route (metric 100)
  uplink2  10.201.2.2  fd00:201:2::2   a second route (metric 200)
The server answers each connection with the address it came from.

  client                     without bindsup            bindsup -i uplink2 -- client
TEXT
row "curl, IPv4" curl -s --max-time 5 http://10.200.0.1:8080/
row "curl, IPv6" curl -s --max-time 5 'http://[fd00:200::1]:8080/'
row "static Go binary, IPv4" "$tools/goclient" tcp 10.200.0.1:8080
row "static Go binary, IPv6" "$tools/goclient" tcp '[fd00:200::1]:8080'
row "static Go binary, UDP" "$tools/goclient" udp 10.200.0.1:8081
row "busybox wget (static)" busybox wget -q -O - http://10.200.0.1:8080/
echo
