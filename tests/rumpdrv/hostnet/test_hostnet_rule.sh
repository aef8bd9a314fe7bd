#!/bin/sh
# test_hostnet_rule.sh - the hostnet allow-list parser, plain and under
# ASan+UBSan.
set -e
b=${top_builddir:-.}/tests/rumpdrv/hostnet
"$b/test_hostnet_rule"
echo "-- again under ASan+UBSan"
"$b/test_hostnet_rule_san"
