#!/usr/bin/python3
"""k8s_check.py MANIFEST...: check Kubernetes manifests, print what was
checked and one line per problem, exit 1 on any.

Schema: with Debian's python3-kubernetes, every object is walked against
the client's generated models (the API's OpenAPI schema, Kubernetes 1.22):
unknown fields, wrong types and missing required fields are errors.
Without it (exit 77 unless --no-schema), only the rules below run.

Rules, for any kind: apiVersion, kind and metadata.name present, names
DNS-1123.  DaemonSet (and Deployment, StatefulSet): the selector's
matchLabels are among the template's labels; container and volume names
are unique; every volumeMount names a volume; every container has requests
equal to its limits for cpu and memory (Guaranteed QoS) and hugepages
requests equal to limits; a container with hugepages mounts a HugePages
emptyDir; the pod's prometheus.io/port annotation names a containerPort;
a configMap volume names a ConfigMap given in the manifests, which has the
keys the items name."""
import re
import sys

import yaml

DNS1123 = re.compile(r'^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$')
errors = []


def err(where, msg):
    errors.append('%s: %s' % (where, msg))


# ---- schema, from python3-kubernetes's models -----------------------------
def schema_walk(obj, typ, where, models):
    """Unknown fields and types; required fields come from deserialize."""
    if typ.startswith('list['):
        if not isinstance(obj, list):
            return err(where, 'expected a list (%s), found %s' % (typ, type(obj).__name__))
        for i, v in enumerate(obj):
            schema_walk(v, typ[5:-1], '%s[%d]' % (where, i), models)
        return
    if typ.startswith('dict('):
        if not isinstance(obj, dict):
            return err(where, 'expected a map (%s), found %s' % (typ, type(obj).__name__))
        vt = typ[typ.index(',') + 1:-1].strip()
        for k, v in obj.items():
            schema_walk(v, vt, '%s.%s' % (where, k), models)
        return
    prim = {'str': str, 'int': int, 'bool': bool, 'float': (int, float)}
    if typ in prim:
        if not isinstance(obj, prim[typ]) or (typ == 'int' and isinstance(obj, bool)):
            err(where, 'expected %s, found %s %r' % (typ, type(obj).__name__, obj))
        return
    if typ in ('object', 'datetime', 'date'):
        return
    cls = getattr(models, typ, None)
    if cls is None:
        return err(where, 'the schema has no type %s' % typ)
    if not isinstance(obj, dict):
        return err(where, 'expected an object (%s), found %s' % (typ, type(obj).__name__))
    rev = {j: a for a, j in cls.attribute_map.items()}
    for k, v in obj.items():
        if k not in rev:
            err(where, 'unknown field %r (%s has: %s)' % (k, typ, ', '.join(sorted(rev))))
            continue
        schema_walk(v, cls.openapi_types[rev[k]], '%s.%s' % (where, k), models)


def schema_check(doc, where, client):
    kind, api = doc.get('kind', ''), doc.get('apiVersion', '')
    version = api.split('/')[-1]
    typ = version[0].upper() + version[1:] + kind
    if getattr(client.models, typ, None) is None:
        return err(where, 'no schema for %s %s' % (api, kind))
    schema_walk(doc, typ, where, client.models)
    try:
        client.ApiClient()._ApiClient__deserialize(doc, typ)
    except (ValueError, TypeError) as e:
        err(where, 'schema: %s' % e)


# ---- rules -----------------------------------------------------------------
def qty(q):
    """A resource quantity as a number (enough for equality and wholeness)."""
    m = re.match(r'^([0-9.]+)(m|k|M|G|T|Ki|Mi|Gi|Ti)?$', str(q))
    if not m:
        return None
    mult = {None: 1, 'm': 1e-3, 'k': 1e3, 'M': 1e6, 'G': 1e9, 'T': 1e12,
            'Ki': 2**10, 'Mi': 2**20, 'Gi': 2**30, 'Ti': 2**40}[m.group(2)]
    return float(m.group(1)) * mult


def check_pod(spec, meta, where, configmaps):
    vols = [v.get('name') for v in spec.get('volumes', [])]
    if len(set(vols)) != len(vols):
        err(where, 'volume names repeat: %s' % vols)
    vol = {v.get('name'): v for v in spec.get('volumes', [])}
    ctrs = spec.get('initContainers', []) + spec.get('containers', [])
    names = [c.get('name') for c in ctrs]
    if len(set(names)) != len(names):
        err(where, 'container names repeat: %s' % names)
    if not spec.get('containers'):
        err(where, 'no containers')
    ports = set()
    for c in ctrs:
        cw = '%s container %s' % (where, c.get('name'))
        if not c.get('image'):
            err(cw, 'no image')
        for p in c.get('ports', []):
            ports.add(str(p.get('containerPort')))
            if p.get('name'):
                ports.add(p['name'])
        for m in c.get('volumeMounts', []):
            if m.get('name') not in vol:
                err(cw, 'volumeMount %s names no volume (volumes: %s)' % (m.get('name'), ', '.join(vols)))
        res = c.get('resources', {})
        req, lim = res.get('requests', {}), res.get('limits', {})
        for r in ('cpu', 'memory'):
            if r not in lim or r not in req:
                err(cw, 'Guaranteed QoS needs %s in both requests and limits' % r)
            elif qty(req[r]) != qty(lim[r]):
                err(cw, 'Guaranteed QoS needs %s requests (%s) == limits (%s)' % (r, req[r], lim[r]))
        for r in set(req) | set(lim):
            if r.startswith('hugepages-'):
                if qty(req.get(r)) != qty(lim.get(r)):
                    err(cw, '%s: requests and limits must be equal' % r)
                medium = 'HugePages-' + r[len('hugepages-'):]
                if not any(vol.get(m.get('name'), {}).get('emptyDir', {}).get('medium') in (medium, 'HugePages')
                           for m in c.get('volumeMounts', [])):
                    err(cw, '%s requested but no emptyDir of medium %s mounted' % (r, medium))
            if qty(req.get(r, lim.get(r))) is None:
                err(cw, 'resource %s: %r is not a quantity' % (r, req.get(r, lim.get(r))))
    ann = meta.get('annotations', {})
    if ann.get('prometheus.io/scrape') == 'true':
        if str(ann.get('prometheus.io/port')) not in ports:
            err(where, 'prometheus.io/port %s is no containerPort (%s)' % (ann.get('prometheus.io/port'), ', '.join(sorted(ports))))
    for v in spec.get('volumes', []):
        cm = v.get('configMap')
        if cm is None:
            continue
        if cm.get('name') not in configmaps:
            err(where, 'volume %s: ConfigMap %s is not in the manifests' % (v['name'], cm.get('name')))
            continue
        for it in cm.get('items', []):
            if it.get('key') not in configmaps[cm['name']].get('data', {}):
                err(where, 'volume %s: ConfigMap %s has no key %s' % (v['name'], cm['name'], it.get('key')))


def check_doc(doc, where, configmaps):
    for k in ('apiVersion', 'kind'):
        if not doc.get(k):
            err(where, 'no %s' % k)
    meta = doc.get('metadata') or {}
    name = meta.get('name')
    if not name:
        err(where, 'no metadata.name')
    elif not DNS1123.match(name) or len(name) > 253:
        err(where, 'metadata.name %r is not a DNS-1123 name' % name)
    kind = doc.get('kind')
    if kind in ('DaemonSet', 'Deployment', 'StatefulSet'):
        spec = doc.get('spec') or {}
        sel = (spec.get('selector') or {}).get('matchLabels') or {}
        tmeta = (spec.get('template') or {}).get('metadata') or {}
        labels = tmeta.get('labels') or {}
        if not sel:
            err(where, 'no spec.selector.matchLabels')
        for k, v in sel.items():
            if labels.get(k) != v:
                err(where, 'selector %s=%s does not match the template labels %s' % (k, v, labels))
        check_pod((spec.get('template') or {}).get('spec') or {}, tmeta, where, configmaps)


def schema_version():
    import kubernetes
    return kubernetes.__version__


def main():
    args = sys.argv[1:]
    schema = '--no-schema' not in args
    files = [a for a in args if not a.startswith('--')]
    client = None
    if schema:
        try:
            import kubernetes.client as client
        except ImportError:
            print('SKIP: python3-kubernetes is not installed (the schema); '
                  'run with --no-schema for the rules alone')
            return 77
    docs = []
    for f in files:
        with open(f, encoding='utf-8') as fh:
            for i, d in enumerate(yaml.safe_load_all(fh)):
                if d is None:
                    continue
                if not isinstance(d, dict):
                    err('%s#%d' % (f, i), 'not a mapping')
                    continue
                docs.append(('%s#%d %s/%s' % (f, i, d.get('kind'),
                             (d.get('metadata') or {}).get('name')), d))
    configmaps = {d['metadata']['name']: d for _, d in docs
                  if d.get('kind') == 'ConfigMap' and d.get('metadata', {}).get('name')}
    for where, d in docs:
        check_doc(d, where, configmaps)
        if client is not None:
            schema_check(d, where, client)
        print('checked: %s%s' % (where, ' (schema: python3-kubernetes %s)' %
              schema_version() if client else ''))
    for e in errors:
        print('k8s_check: %s' % e)
    return 1 if errors or not docs else 0


if __name__ == '__main__':
    sys.exit(main())
