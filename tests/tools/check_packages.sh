#!/usr/bin/env bash
# Every package the Quick start installs must be a real Debian package name that is installed
# after set-up. A virtual or misspelt name (apt-get may accept it, dpkg never records it) would
# make the install step fail on a fresh machine, so it fails here first.
set -uo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
status=0
n=0
while read -r p; do
  n=$((n + 1))
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    echo "error: Quick-start package '$p' is not installed under that name" >&2
    status=1
  fi
done < <("$root/tools/quickstart.sh" packages)
[ "$n" -ge 10 ] || { echo "error: only $n packages listed" >&2; status=1; }
[ $status -eq 0 ] && echo "all $n Quick-start packages are installed under their own names"
exit $status
