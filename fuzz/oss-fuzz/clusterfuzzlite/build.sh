#!/bin/bash -eu
# ClusterFuzzLite entry point: the OSS-Fuzz build script of the repository.
exec "$SRC/vmstress/fuzz/oss-fuzz/build.sh"
