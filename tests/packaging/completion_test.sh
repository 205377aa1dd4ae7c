#!/usr/bin/env bash
# completion_test.sh BINDSUP COMPLETION_FILE
#
# Runs the bash completion function (packaging/bash-completion/bindsup) on
# command lines, in a bash with bash-completion loaded (as a user has it) and
# in a plain bash with only the file sourced, and checks what it offers
# against the binary itself: the options of --help, the errno names that
# --deny-errno accepts, this machine's interfaces. Needs no privileges.
set -u
bindsup=${1:?usage: completion_test.sh BINDSUP COMPLETION_FILE}
file=${2:?usage: completion_test.sh BINDSUP COMPLETION_FILE}
failures=0

# What the binary says.
help=$("$bindsup" --help)
help_long=$(grep -oE -- '--[a-z][a-z-]*' <<<"$help" | sort -u | xargs)
help_short=$(grep -oE -- '^ +-[a-z],' <<<"$help" | tr -d ' ,' | sort -u | xargs)
errnos=$("$bindsup" --deny-errno NOT-AN-ERRNO -i lo -- true 2>&1 |
         sed -n 's/.* is not one of \([A-Z, ]*\).*/\1/p' | tr -d ',' | tr ' ' '\n' | sort | xargs)
modes=$("$bindsup" --mode NOT-A-MODE -i lo -- true 2>&1 |
        sed -n 's/.* is not one of \([a-z, ]*\).*/\1/p' | tr -d ',' | tr ' ' '\n' | sort | xargs)
interfaces=$(ls /sys/class/net | sort | xargs)
[[ -n $errnos ]] || { echo "FAIL: bindsup named no errnos for --deny-errno"; failures=$((failures + 1)); }
[[ -n $modes ]] || { echo "FAIL: bindsup named no modes for --mode"; failures=$((failures + 1)); }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
touch "$tmp/audit.jsonl"

# run_in MODE SCRIPT: SCRIPT in a fresh non-interactive bash with the
# completion loaded, and with bash-completion first if MODE is "full".
# (Its stderr is dropped: outside a real completion, bash-completion's
# compopt calls complain.)
run_in() {
  local mode=$1 script=$2 prelude=""
  if [[ $mode == full ]]; then
    prelude="source /usr/share/bash-completion/bash_completion"
  fi
  bash --norc --noprofile -c "
    $prelude
    source '$file'
    # comp WORD...: the last word is being completed; prints the sorted offers.
    comp() {
      COMP_WORDS=(\"\$@\")
      COMP_CWORD=\$((\${#COMP_WORDS[@]} - 1))
      COMP_LINE=\"\${COMP_WORDS[*]}\"
      COMP_POINT=\${#COMP_LINE}
      COMPREPLY=()
      _bindsup bindsup \"\${COMP_WORDS[COMP_CWORD]}\" \"\${COMP_WORDS[COMP_CWORD - 1]}\"
      printf '%s\n' \"\${COMPREPLY[@]}\" | sed 's/ *$//' | grep -v '^$' | sort -u | paste -sd ' '
    }
    $script" 2>/dev/null
}

# expect MODE WHAT EXPECTED WORD...: the offers for WORD... are EXPECTED.
expect() {
  local mode=$1 what=$2 expected=$3
  shift 3
  local words=""
  for w in "$@"; do words+=" $(printf '%q' "$w")"; done
  local got
  got=$(run_in "$mode" "comp $words")
  if [[ $got != "$expected" ]]; then
    echo "FAIL ($mode): $what: '$*' offered '$got', expected '$expected'"
    failures=$((failures + 1))
  else
    echo "ok   ($mode): $what"
  fi
}

# expect_some MODE WHAT NEEDLE WORD...: the offers include NEEDLE.
expect_some() {
  local mode=$1 what=$2 needle=$3
  shift 3
  local words=""
  for w in "$@"; do words+=" $(printf '%q' "$w")"; done
  local got
  got=$(run_in "$mode" "comp $words")
  if [[ " $got " != *" $needle "* ]]; then
    echo "FAIL ($mode): $what: '$*' offered '$got', not '$needle'"
    failures=$((failures + 1))
  else
    echo "ok   ($mode): $what"
  fi
}

for mode in full plain; do
  got=$(run_in "$mode" "complete -p bindsup")
  if [[ $got == "complete -F _bindsup bindsup" ]]; then
    echo "ok   ($mode): complete -p bindsup"
  else
    echo "FAIL ($mode): complete -p bindsup said '$got'"
    failures=$((failures + 1))
  fi

  long=$(run_in "$mode" "comp bindsup --" | tr ' ' '\n' | grep -vx -- -- | sort | xargs)
  if [[ $long == "$help_long" ]]; then
    echo "ok   ($mode): long options are those of --help"
  else
    echo "FAIL ($mode): long options '$long', --help has '$help_long'"
    failures=$((failures + 1))
  fi
  short=$(run_in "$mode" "comp bindsup -" | tr ' ' '\n' | grep -E '^-[a-z]$' | sort | xargs)
  if [[ $short == "$help_short" ]]; then
    echo "ok   ($mode): short options are those of --help"
  else
    echo "FAIL ($mode): short options '$short', --help has '$help_short'"
    failures=$((failures + 1))
  fi
  expect "$mode" "options by prefix" "--deny --deny-errno" bindsup -v --den
  expect "$mode" "one option" "--help" bindsup --he

  expect "$mode" "-i: interfaces" "$interfaces" bindsup -i ""
  expect "$mode" "--interface: interfaces" "$interfaces" bindsup --interface ""
  expect "$mode" "--interface=: interfaces" "$interfaces" bindsup --interface = ""
  expect "$mode" "-vi (a cluster): interfaces" "$interfaces" bindsup -vi ""
  expect "$mode" "--check -i: interfaces" "lo" bindsup --check -i l
  expect_some "$mode" "-s: the -i interface's addresses" 127.0.0.1 bindsup -i lo -s ""
  expect_some "$mode" "--source-ip after -ilo" 127.0.0.1 bindsup -ilo --source-ip 127.

  expect "$mode" "--deny-errno: what bindsup accepts" "$errnos" bindsup -i lo --deny-errno ""
  expect "$mode" "--deny-errno by prefix" "ECONNREFUSED ECONNRESET" bindsup --deny-errno ECONN
  expect "$mode" "--deny-errno=" "EHOSTUNREACH" bindsup --deny-errno = EHOST

  expect "$mode" "--mode: what bindsup accepts" "$modes" bindsup -i lo --mode ""
  expect "$mode" "--mode=" "kernel" bindsup --mode = k

  expect "$mode" "--log: files" "$tmp/audit.jsonl" bindsup --log "$tmp/aud"
  expect "$mode" "-x: a list to type" "" bindsup -i lo -x ""
  expect "$mode" "--grace: seconds to type" "" bindsup --grace ""

  expect_some "$mode" "the command after --" echo bindsup -i lo -- ech
  expect_some "$mode" "the command after the options" echo bindsup -i lo -v ech
  expect_some "$mode" "the command after --opt=value" echo bindsup --interface = lo ech
  # The command's own arguments are not bindsup's options.
  expect "$mode" "after the command, no bindsup options" "" bindsup -i lo true --inter
done

# With bash-completion, the command's own completion takes over.
expect_some full "the command's own completion" --kill-after= bindsup -i lo -- timeout --ki
expect full "a nested bindsup" "lo" bindsup -i lo -- bindsup -i l

echo "$failures failed"
[[ $failures -eq 0 ]]
