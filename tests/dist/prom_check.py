#!/usr/bin/python3
"""prom_check.py FILE: check FILE against the Prometheus text exposition
format 0.0.4 and KRANK's own rules, print one line per problem, exit 1 on
any.  The format: HELP/TYPE comments, NAME{LABEL="VALUE",...} VALUE
[TIMESTAMP] samples, names [a-zA-Z_:][a-zA-Z0-9_:]*, label names
[a-zA-Z_][a-zA-Z0-9_]* (never __*), label values with only \\\\, \\" and
\\n escaped, one block per metric family.  KRANK's rules on top: every
family has HELP and TYPE before its samples, counters end in _total and
are never negative, no series appears twice, and a family's series all
have the same label names.  With -v it prints the families it saw."""
import math
import re
import sys

NAME = r'[a-zA-Z_:][a-zA-Z0-9_:]*'
LNAME = r'[a-zA-Z_][a-zA-Z0-9_]*'
LVALUE = r'"(?:[^"\\\n]|\\[\\"n])*"'
SAMPLE = re.compile(r'(%s)(\{(?:%s=%s(?:,%s=%s)*,?)?\})? (\S+)(?: (-?[0-9]+))?$'
                    % (NAME, LNAME, LVALUE, LNAME, LVALUE))
LABEL = re.compile(r'(%s)=(%s)' % (LNAME, LVALUE))
HELP = re.compile(r'# HELP (%s) ((?:[^\\\n]|\\[\\n])*)$' % NAME)
TYPE = re.compile(r'# TYPE (%s) (counter|gauge|histogram|summary|untyped)$' % NAME)
SUFFIXES = ('_bucket', '_count', '_sum')


def value_ok(v):
    if v in ('+Inf', '-Inf', 'NaN'):
        return True
    try:
        float(v)
    except ValueError:
        return False
    return re.match(r'^[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$', v) is not None


def family_of(name, types):
    if name in types:
        return name
    for s in SUFFIXES:
        if name.endswith(s) and name[:-len(s)] in types and \
                types[name[:-len(s)]] in ('histogram', 'summary'):
            return name[:-len(s)]
    return name


def check(text):
    errs = []
    helps, types, done, labelsets, series = {}, {}, set(), {}, set()
    current = None
    if text and not text.endswith('\n'):
        errs.append('the last line does not end in a newline')
    for no, ln in enumerate(text.split('\n')[:-1] if text.endswith('\n')
                            else text.split('\n'), 1):
        where = 'line %d' % no
        if ln == '':
            continue
        if ln.startswith('#'):
            m = HELP.match(ln)
            if ln.startswith('# HELP '):
                if not m:
                    errs.append('%s: malformed HELP: %r' % (where, ln))
                    continue
                fam = m.group(1)
                if fam in helps:
                    errs.append('%s: second HELP for %s' % (where, fam))
                if fam in done:
                    errs.append('%s: HELP for %s after its block' % (where, fam))
                helps[fam] = m.group(2)
                if not m.group(2).strip():
                    errs.append('%s: empty HELP for %s' % (where, fam))
                continue
            if ln.startswith('# TYPE '):
                m = TYPE.match(ln)
                if not m:
                    errs.append('%s: malformed TYPE: %r' % (where, ln))
                    continue
                fam = m.group(1)
                if fam in types:
                    errs.append('%s: second TYPE for %s' % (where, fam))
                if fam in done or fam == current:
                    errs.append('%s: TYPE for %s after its samples' % (where, fam))
                types[fam] = m.group(2)
                if m.group(2) == 'counter' and not fam.endswith('_total'):
                    errs.append('%s: counter %s does not end in _total' % (where, fam))
                continue
            continue        # any other comment
        m = SAMPLE.match(ln)
        if not m:
            errs.append('%s: not a sample: %r' % (where, ln))
            continue
        name, labels, value = m.group(1), m.group(2) or '', m.group(3)
        fam = family_of(name, types)
        if fam != current:
            if fam in done:
                errs.append('%s: %s again after another family' % (where, fam))
            if current is not None:
                done.add(current)
            current = fam
        if fam not in types:
            errs.append('%s: %s has no TYPE line' % (where, name))
        if fam not in helps:
            errs.append('%s: %s has no HELP line' % (where, name))
        if not value_ok(value):
            errs.append('%s: %s: value %r is not a number' % (where, name, value))
        elif types.get(fam) == 'counter' and (math.isnan(float(value)) or
                                              float(value) < 0):
            errs.append('%s: counter %s is %s' % (where, name, value))
        pairs = LABEL.findall(labels)
        lnames = [p[0] for p in pairs]
        for n in lnames:
            if n.startswith('__'):
                errs.append('%s: label %s is reserved' % (where, n))
        if len(set(lnames)) != len(lnames):
            errs.append('%s: a label repeats in %s' % (where, ln))
        key = (name, tuple(sorted(pairs)))
        if key in series:
            errs.append('%s: series %s%s twice' % (where, name, labels))
        series.add(key)
        ls = tuple(sorted(lnames))
        if labelsets.setdefault(name, ls) != ls:
            errs.append('%s: %s has labels %s here and %s before' %
                        (where, name, ls, labelsets[name]))
    for fam in helps:
        if fam not in types:
            errs.append('%s has HELP but no TYPE' % fam)
    return errs, types, labelsets


def main():
    args = [a for a in sys.argv[1:] if a != '-v']
    if len(args) != 1:
        print('usage: prom_check.py [-v] FILE', file=sys.stderr)
        return 2
    with open(args[0], encoding='utf-8') as f:
        text = f.read()
    errs, types, labelsets = check(text)
    if '-v' in sys.argv:
        for fam in types:
            print('%-48s %-8s %s' % (fam, types[fam],
                  ','.join(labelsets.get(fam, ())) or '-'))
    for e in errs:
        print('prom_check: %s: %s' % (args[0], e))
    return 1 if errs else 0


if __name__ == '__main__':
    sys.exit(main())
