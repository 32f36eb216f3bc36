#!/bin/sh
# Make Debian's Chromium available at /usr/bin/chromium for the browser tests.
#
# Installs it with apt-get when it is missing and we run as root (CI does); otherwise says why it
# did nothing and exits 0, so the browser tests can skip with a clear reason.
set -eu

CHROMIUM=/usr/bin/chromium

if [ -x "$CHROMIUM" ]; then
    echo "ensure_chromium: $CHROMIUM is present; nothing to do."
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    echo "ensure_chromium: $CHROMIUM is missing and this user is not root; not installing it" \
         "(run 'sudo apt-get install -y chromium' to enable the browser tests)."
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "ensure_chromium: $CHROMIUM is missing and apt-get is not available; not installing it."
    exit 0
fi

echo "ensure_chromium: installing Debian's chromium with apt-get ..."
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y chromium
if [ -x "$CHROMIUM" ]; then
    echo "ensure_chromium: installed $("$CHROMIUM" --version 2>/dev/null || echo chromium)."
else
    echo "ensure_chromium: apt-get finished but $CHROMIUM is still missing."
fi
exit 0
