#!/bin/bash -eu
# ClusterFuzzLite entry point ($SRC/build.sh in the image): the OSS-Fuzz
# build script of the repository, which the image copies to $SRC/vmstress.
# VMSTRESS_SRC names another checkout (the local check in
# fuzz/oss-fuzz/check_build.sh).
exec "${VMSTRESS_SRC:-$SRC/vmstress}/fuzz/oss-fuzz/build.sh"
