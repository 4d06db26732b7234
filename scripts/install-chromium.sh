#!/usr/bin/env bash
# Install Debian's Chromium (and a CJK font, so that screenshots show Chinese) for the browser tests.
# Idempotent: apt-get runs only when something is missing. Needs root (CI and the dev machines run as root).
set -euo pipefail

need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
if ! fc-list 2>/dev/null | grep -qiE 'wqy|noto sans cjk|noto serif cjk|droid sans fallback'; then
  need+=(fonts-wqy-microhei)
fi
if [ ${#need[@]} -eq 0 ]; then
  echo "install-chromium: chromium and a CJK font are already installed"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-chromium: missing ${need[*]} and not root; the browser test will be skipped" >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
if apt-get update -q && apt-get install -y -q --no-install-recommends "${need[@]}" fontconfig; then
  echo "install-chromium: installed ${need[*]}"
else
  echo "install-chromium: could not install ${need[*]}; the browser test will be skipped" >&2
fi
