#!/bin/sh
# Prints what this image carries, so a demo can show which inputs it was built from.
echo "llvm: $(cat /usr/local/llvm/VERSION), built against $(cat /usr/local/llvm/SYSROOT_VERSION)"
for dir in /crossrootfs/*/; do
  [ -d "$dir" ] || continue
  echo "crossrootfs $(basename "$dir"): $(cat "$dir/VERSION"), $(cat "$dir/TARGET"), triple $(cat "$dir/TRIPLE")"
done
