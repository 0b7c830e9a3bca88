#!/usr/bin/env sh
# Installs redis-server from the distribution's packages when it is absent, so that the Redis tests
# (test/RedisCache.test.ts) and benchmark run instead of being skipped. The tests start their own
# server on a unix socket; nothing here starts or configures a system service.
set -eu

if command -v redis-server >/dev/null 2>&1; then
  echo "redis-server present: $(redis-server --version)"
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "redis-server is missing and apt-get is not available: install Redis 4.0 or later by hand" >&2
  exit 1
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo"
fi

$SUDO apt-get update
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends redis-server
echo "installed: $(redis-server --version)"
