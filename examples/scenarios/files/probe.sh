#!/bin/sh
# what a node reports: its name (first argument), its kernel and its load
echo "$1: $(uname -s) load $(cut -d' ' -f1 /proc/loadavg)"
