#!/bin/bash
# The careful shell way to install a product version, as an operator would type it, with the
# same durability as webtree: unpack into a new directory, flush it to disk, then point `current`
# at it with a rename. Used by bench/install.mjs as the baseline.
# Usage: shell-install.sh ARCHIVE PRODUCT_DIR VERSION
set -euo pipefail
archive=$1 dir=$2 version=$3
mkdir "$dir/$version"
tar -xzf "$archive" -C "$dir/$version" --strip-components=1
sync -f "$dir/$version"
ln -s "$version" "$dir/current.tmp"
mv -T "$dir/current.tmp" "$dir/current"
