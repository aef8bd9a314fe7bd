#!/bin/sh
# test_k8s_manifests.sh - the Kubernetes manifests in dist/k8s parse and
# hold together: tests/dist/k8s_check.py checks each object against the
# Kubernetes API schema (python3-kubernetes's generated models: unknown
# fields, types, required fields) and the DaemonSet's rules (selector
# matches the template, volumeMounts name volumes, requests == limits for
# Guaranteed QoS, hugepages with their volume, the Prometheus port, the
# ConfigMap and its key).  Each rule is shown to catch a broken copy.
# The ConfigMap's deployment, with cores filled in as the pod's command
# does, passes krank check.
set -u
src=$(cd "${top_srcdir:-.}" && pwd)
bld=$(cd "${top_builddir:-.}" && pwd)
py=/usr/bin/python3
[ -x "$py" ] || { echo "SKIP: /usr/bin/python3 is not installed"; exit 77; }
"$py" -c 'import yaml' 2>/dev/null ||
	{ echo "SKIP: python3-yaml is not installed (scripts/install-deps.sh)"; exit 77; }
schema=
"$py" -c 'import kubernetes.client' 2>/dev/null || {
	echo "note: python3-kubernetes is not installed: no schema check, the rules only"
	schema=--no-schema
}
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
ok() { echo "ok: $*"; }
chk="$src/tests/dist/k8s_check.py"
ds="$src/dist/k8s/krank-daemonset.yaml"
cm="$src/dist/k8s/configmap-demo.yaml"

"$py" "$chk" $schema "$ds" "$cm" >"$d/out" || { cat "$d/out"; fail "the manifests"; }
cat "$d/out"
ok "dist/k8s: $(grep -c '^checked' "$d/out") objects valid${schema:+ (rules only)}"

# mutate NAME PYTHON: a copy of the manifests changed by PYTHON (on ds,
# the DaemonSet, and pod, its pod spec) must be refused.
mutate() {
	"$py" - "$ds" "$d/bad.yaml" "$2" <<'PY'
import sys, yaml
docs = list(yaml.safe_load_all(open(sys.argv[1])))
ds = [x for x in docs if x and x.get('kind') == 'DaemonSet'][0]
pod = ds['spec']['template']['spec']
exec(sys.argv[3])
yaml.safe_dump_all(docs, open(sys.argv[2], 'w'))
PY
	"$py" "$chk" $schema "$d/bad.yaml" "$cm" >"$d/bad.out" &&
		fail "k8s_check accepted a manifest with $1"
	grep -q '^k8s_check: ' "$d/bad.out" || fail "k8s_check: no reason for $1"
}
mutate "a selector the template lacks" "ds['spec']['selector']['matchLabels']['x'] = 'y'"
mutate "a volumeMount of no volume" "pod['containers'][0]['volumeMounts'][0]['name'] = 'nope'"
mutate "cpu requests below limits" "pod['containers'][0]['resources']['requests']['cpu'] = '1'"
mutate "no memory limit" "del pod['containers'][1]['resources']['limits']['memory']"
mutate "hugepages without their volume" "pod['volumes'] = [v for v in pod['volumes'] if 'emptyDir' not in v or v['emptyDir'].get('medium') != 'HugePages-2Mi']; pod['containers'][0]['volumeMounts'] = [m for m in pod['containers'][0]['volumeMounts'] if m['name'] != 'hugepages']"
mutate "a scrape port no container has" "ds['spec']['template']['metadata']['annotations']['prometheus.io/port'] = '9999'"
mutate "a ConfigMap that does not exist" "[v for v in pod['volumes'] if 'configMap' in v][0]['configMap']['name'] = 'other'"
mutate "two containers of one name" "pod['containers'][1]['name'] = pod['containers'][0]['name']"
mutate "no metadata.name" "del ds['metadata']['name']"
mutate "an invalid name" "ds['metadata']['name'] = 'Krank_DS'"
if [ -z "$schema" ]; then
	mutate "an unknown field" "pod['terminationGracePeriod'] = 30"
	mutate "a string for a boolean" "pod['hostNetwork'] = 'yes'"
	mutate "a container without a name" "del pod['containers'][1]['name']"
	mutate "a list where an object belongs" "pod['containers'][0]['securityContext'] = []"
fi
ok "k8s_check refuses each broken copy$([ -z "$schema" ] && echo ', schema errors included')"

# The deployment in the ConfigMap, as the pod runs it.
[ -x "$bld/krank/krank" ] || { echo "SKIP: krank/krank is not built"; exit 77; }
"$py" - "$cm" "$d/node.yaml" <<'PY' || fail "no node.yaml in the ConfigMap"
import sys, yaml
cm = [x for x in yaml.safe_load_all(open(sys.argv[1])) if x and x.get('kind') == 'ConfigMap'][0]
open(sys.argv[2], 'w').write(cm['data']['node.yaml'])
PY
cores=$(sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' /proc/self/status)
sed "s/^cores:.*/cores: \"$cores\"/" "$d/node.yaml" >"$d/run.yaml"
grep -q "^cores: \"$cores\"$" "$d/run.yaml" || fail "the pod's sed did not fill in cores"
"$bld/krank/krank" check "$d/run.yaml" >"$d/check.out" 2>&1 ||
	fail "krank check of the ConfigMap's deployment: $(cat "$d/check.out")"
ok "the ConfigMap's deployment, cores filled in as the pod does ($cores), passes krank check"
exit 0
