#!/usr/bin/env bash
# Install Debian's redis-server for the workers-on-Redis test (tests/test_workers.py starts its own server on a free
# loopback port; the Debian service itself is not needed and not started here).
# Idempotent: apt-get runs only when redis-server is missing. Needs root (CI and the dev machines run as root).
set -euo pipefail

if command -v redis-server >/dev/null 2>&1; then
  echo "install-redis: redis-server is already installed ($(redis-server --version | head -c 40))"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-redis: redis-server missing and not root; the workers test will be skipped" >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
# Wait for another apt run (the other install scripts) instead of failing on its lock.
apt_opts=(-o DPkg::Lock::Timeout=600 -q)
# policy-rc.d: the package's service must not be started (nor fail to start) inside containers.
if apt-get "${apt_opts[@]}" install -y --no-install-recommends redis-server \
   || { apt-get "${apt_opts[@]}" update && apt-get "${apt_opts[@]}" install -y --no-install-recommends redis-server; }; then
  echo "install-redis: installed redis-server"
else
  echo "install-redis: could not install redis-server; the workers test will be skipped" >&2
fi
