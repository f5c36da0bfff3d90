#!/usr/bin/env bash
# Installs the system packages the test suite drives for real: Debian's Chromium (browser tests),
# redis-server (scale-out job tests), Orthanc (the DICOM server of the PACS tests) and DCMTK
# (storescu, findscu: the scanner/PACS side of those tests). Does nothing when all are present.
set -euo pipefail

missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v Orthanc >/dev/null 2>&1 || missing+=(orthanc)
command -v storescu >/dev/null 2>&1 || missing+=(dcmtk)
[ ${#missing[@]} -eq 0 ] && exit 0

echo "installing system packages for the tests: ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "need root (or sudo) to apt-get install ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
