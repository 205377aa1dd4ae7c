#!/usr/bin/env bash
# deb_test.sh SOURCE_DIR DEB_BUILD_DIR VERSION [WERROR]
#
# make deb, then checks the package: its name, its Depends (from the shared
# libraries the binary links), its files; installs it with dpkg into a
# throwaway root (the machine's own dpkg database is not touched), runs the
# installed bindsup --version and man -l on the installed page, checks that
# the completion and copyright are there, and removes it again.
set -euo pipefail
src=${1:?usage: deb_test.sh SOURCE_DIR DEB_BUILD_DIR VERSION [WERROR]}
build=${2:?missing DEB_BUILD_DIR}
version=${3:?missing VERSION}
werror=${4:-OFF}
failures=0
fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}

env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
  make -C "$src" --no-print-directory deb DEB_BUILD="$build" JOBS=2 WERROR="$werror"

deb="$build/bindsup_${version}_$(dpkg --print-architecture).deb"
[[ -f $deb ]] || { echo "FAIL: $deb was not built"; ls "$build"; exit 1; }
echo "package: $deb"

[[ $(dpkg-deb -f "$deb" Package) == bindsup ]] || fail "Package is not bindsup"
[[ $(dpkg-deb -f "$deb" Version) == "$version" ]] || fail "Version is not $version"
depends=$(dpkg-deb -f "$deb" Depends)
echo "Depends: $depends"
for library in libseccomp2 libfmt9 libc6 libstdc++6; do
  [[ $depends == *"$library "* || $depends == *"$library," || $depends == *"$library" ]] ||
    fail "Depends does not name $library"
done
# Each dependency is satisfied on this machine, which built it.
IFS=',' read -ra items <<<"$depends"
for item in "${items[@]}"; do
  read -r name op wanted <<<"$(tr -d '()' <<<"$item")"
  case ${op:-} in '>=') op=ge ;; '<=') op=le ;; '=') op=eq ;; '>>') op=gt ;; '<<') op=lt ;; esac
  installed=$(dpkg-query -W -f='${Version}' "$name" 2>/dev/null || true)
  if [[ -z $installed ]]; then
    fail "dependency $name is not installed here"
  elif [[ -n ${op:-} ]] && ! dpkg --compare-versions "$installed" "$op" "$wanted"; then
    fail "dependency $name: installed $installed, needs $op $wanted"
  fi
done

contents=$(dpkg-deb -c "$deb" | awk '{print $NF}')
for path in ./usr/bin/bindsup ./usr/share/man/man1/bindsup.1.gz \
            ./usr/share/bash-completion/completions/bindsup ./usr/share/doc/bindsup/copyright; do
  grep -qx -- "$path" <<<"$contents" || fail "the package has no $path"
done

root=$(mktemp -d /tmp/bindsup-deb-root-XXXXXX)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates"
touch "$root/var/lib/dpkg/status"
# --force-depends: the throwaway root has no libc6 of its own; the binary
# runs with this machine's libraries, which satisfy Depends (checked above).
dpkg --root="$root" --force-depends --force-not-root -i "$deb" >"$root.log" 2>&1 ||
  { cat "$root.log"; rm -f "$root.log"; fail "dpkg -i failed"; exit 1; }
rm -f "$root.log"

out=$("$root/usr/bin/bindsup" --version) || fail "bindsup --version failed"
[[ $out == "bindsup $version" ]] || fail "bindsup --version said '$out'"
if ldd "$root/usr/bin/bindsup" | grep -q "not found"; then
  fail "the installed binary misses libraries: $(ldd "$root/usr/bin/bindsup")"
fi

page=$(MANPAGER=cat MANWIDTH=80 man -l "$root/usr/share/man/man1/bindsup.1.gz" 2>&1) ||
  fail "man -l failed: $page"
grep -q "^BINDSUP(1)" <<<"$page" || fail "man -l shows no BINDSUP(1) page"
grep -q -- "--interface" <<<"$page" || fail "the page does not document --interface"

cmp -s "$root/usr/share/bash-completion/completions/bindsup" "$src/packaging/bash-completion/bindsup" ||
  fail "the installed completion is not packaging/bash-completion/bindsup"
bash --norc -c "source '$root/usr/share/bash-completion/completions/bindsup' && complete -p bindsup" |
  grep -qx "complete -F _bindsup bindsup" || fail "the installed completion does not register"
[[ -s $root/usr/share/doc/bindsup/copyright ]] || fail "the copyright file is empty"

dpkg --root="$root" --force-not-root -r bindsup >/dev/null 2>&1 || fail "dpkg -r failed"
[[ ! -e $root/usr/bin/bindsup ]] || fail "dpkg -r left /usr/bin/bindsup"

echo "$failures failed"
[[ $failures -eq 0 ]]
