#!/usr/bin/env bash
# Install Debian's Tesseract OCR with its Simplified Chinese model (tesseract-ocr, tesseract-ocr-chi-sim; eng
# comes with tesseract-ocr) for scanned reports (pipelines/extract/ocr.py, scan.py), and what the OCR tests use
# to make scans of the demo's own PDF reports: pdftoppm (poppler-utils) with poppler-data (the CID maps of the
# reports' STSong-Light font) and a CJK font to draw it with.
# Idempotent: apt-get runs only when something is missing. Needs root (CI and the dev machines run as root).
set -euo pipefail

need=()
command -v tesseract >/dev/null 2>&1 || need+=(tesseract-ocr)
if ! tesseract --list-langs 2>/dev/null | grep -qx chi_sim; then
  need+=(tesseract-ocr-chi-sim)
fi
command -v pdftoppm >/dev/null 2>&1 || need+=(poppler-utils)
[ -d /usr/share/poppler/cMap/Adobe-GB1 ] || need+=(poppler-data)
if ! fc-list 2>/dev/null | grep -qiE 'wqy|noto sans cjk|noto serif cjk|droid sans fallback'; then
  need+=(fonts-wqy-microhei)
fi
if [ ${#need[@]} -eq 0 ]; then
  echo "install-ocr: tesseract with chi_sim, pdftoppm, poppler-data and a CJK font are already installed"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-ocr: missing ${need[*]} and not root; the OCR tests will be skipped" >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
# Wait for another apt run (the other install scripts) instead of failing on its lock.
apt_opts=(-o DPkg::Lock::Timeout=600 -q)
if apt-get "${apt_opts[@]}" update && apt-get "${apt_opts[@]}" install -y --no-install-recommends "${need[@]}" fontconfig; then
  echo "install-ocr: installed ${need[*]}"
else
  echo "install-ocr: could not install ${need[*]}; the OCR tests will be skipped" >&2
fi
