#!/usr/bin/env bash
# Install Debian's headless LibreOffice Writer (libreoffice-writer-nogui) for the DOC/WPS conversion tests
# (pipelines/extract/office.py), and a CJK font (LibreOffice lays the document out while it converts).
# Idempotent: apt-get runs only when something is missing. Needs root (CI and the dev machines run as root).
set -euo pipefail

need=()
command -v soffice >/dev/null 2>&1 || need+=(libreoffice-writer-nogui)
if ! fc-list 2>/dev/null | grep -qiE 'wqy|noto sans cjk|noto serif cjk|droid sans fallback'; then
  need+=(fonts-wqy-microhei)
fi
if [ ${#need[@]} -eq 0 ]; then
  echo "install-libreoffice: soffice and a CJK font are already installed"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-libreoffice: missing ${need[*]} and not root; the DOC/WPS conversion tests will be skipped" >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
if apt-get update -q && apt-get install -y -q --no-install-recommends "${need[@]}" fontconfig; then
  echo "install-libreoffice: installed ${need[*]}"
else
  echo "install-libreoffice: could not install ${need[*]}; the DOC/WPS conversion tests will be skipped" >&2
fi
