#!/bin/sh
# Depends on nothing else in this repository, so no other image's change should rebuild it.
echo "tools: hello from $(cat /etc/base-release)"
