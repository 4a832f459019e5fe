#!/usr/bin/python
# -*- coding: utf-8 -*-
# BSD-3-Clause
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: release
short_description: Bring a web host's products to a release with C(webtree apply)
description:
  - Converges the products of a webtree site to a release file (C(webtree apply FILE --json)) on
    the managed host; it installs the archives that are missing (their sha256 checked) and activates
    the versions the release names. Products the release does not name are left alone.
  - Give either I(release), the path of a release file on the managed host, or I(products), the
    same mapping inline.
  - C(changed) is exactly webtree's own C(changed). Nothing is changed or downloaded in check mode
    (C(webtree apply FILE --check)). webtree restarts what the change needs and checks every app
    itself; a failed check puts the previous version back and the task fails.
version_added: 0.1.0
extends_documentation_fragment:
  - sispi.webtree.common
options:
  release:
    description:
      - Path of a release file on the managed host (YAML, C(products:) as in I(products)).
      - Mutually exclusive with I(products).
    type: path
  products:
    description:
      - The release inline, one entry per product (any case), each with C(version), C(archive)
        (an absolute path on the managed host, a C(file://), C(http://) or C(https://) URL), C(sha256)
        (required), and for ChartDirector optionally C(license).
      - Quote versions (C("3.10")); to YAML a bare 3.10 is the number 3.1, and the module
        refuses a version that is not a string.
      - Mutually exclusive with I(release).
    type: dict
attributes:
  check_mode:
    support: full
    description: Runs C(webtree apply --check), which changes and downloads nothing.
  diff_mode:
    support: full
    description: Shows each product's version before and after (C(from) and C(to)).
seealso:
  - module: sispi.webtree.facts
'''

EXAMPLES = r'''
- name: Every product to the release file shipped to the host
  sispi.webtree.release:
    release: /etc/webtree/release-2024-03.yaml

- name: The same, inline, with a site file of its own
  sispi.webtree.release:
    config: /srv/www/webtree.yaml
    products:
      TV:
        version: "3.4"
        archive: https://files.example.org/tv-3.4.tar.gz
        sha256: 2f0c9d3e6a1b7c4d5e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9a0b1c2d3e4f
      ChartDirector:
        version: "5.0.2"
        archive: /srv/archives/ChartDirector-5.0.2.tar.gz
        sha256: 0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9
        license: /etc/webtree/chartdir.lic

- name: What would change (run the play with --check --diff)
  sispi.webtree.release:
    release: /etc/webtree/release.yaml
  check_mode: true
  register: pending
'''

RETURN = r'''
changed:
  description: webtree changed the site (installed or activated a version); in check mode, it would.
  returned: always
  type: bool
products:
  description: What webtree did, or would do, for each product the release names.
  returned: success
  type: list
  elements: dict
  contains:
    name:
      description: The product, as webtree's catalog spells it.
      type: str
      sample: TV
    from:
      description: The version that was current before, or null.
      type: str
      sample: "3.3a"
    to:
      description: The version the release names.
      type: str
      sample: "3.4"
    action:
      description: C(install) (unpack and activate), C(activate) (already installed), or C(none).
      type: str
      sample: install
code:
  description: webtree's error code when the task failed (C(EBADARCHIVE), C(EHEALTH), C(ELOCKED) ...).
  returned: failure
  type: str
  sample: EBADARCHIVE
hint:
  description: What to do about the failure, in webtree's words, or null.
  returned: failure
  type: str
details:
  description: More lines about the failure (an error log, the apps' answers), or null.
  returned: failure
  type: str
'''

import json
import os

from ansible_collections.sispi.webtree.plugins.module_utils.webtree import run_webtree, webtree_module


def _bad_versions(products):
    """Versions YAML turned into numbers: "3.10" written bare is 3.1, silently another version."""
    bad = []
    for name, entry in products.items():
        if not isinstance(entry, dict):
            bad.append('%s is not a mapping of version, archive and sha256' % name)
        elif not isinstance(entry.get('version'), str):
            bad.append('%s: version %r is not a string; quote the version as written (a bare 3.10 is read as the number 3.1)' % (name, entry.get('version')))
    return bad


def _version_text(doc, key):
    lines = []
    for p in doc.get('products', []):
        v = p.get(key)
        lines.append('%s: %s\n' % (p.get('name'), v if v is not None else '(none)'))
    return ''.join(lines)


def main():
    module = webtree_module(dict(release=dict(type='path'), products=dict(type='dict')),
                            mutually_exclusive=[('release', 'products')],
                            required_one_of=[('release', 'products')])
    path = module.params['release']
    if module.params['products'] is not None:
        bad = _bad_versions(module.params['products'])
        if bad:
            module.fail_json(msg='products: ' + '; '.join(bad), code='EUSAGE', hint='each entry is {version: "V", archive: PATH-OR-URL, sha256: HEX}')
        # JSON is YAML: webtree reads the inline release as it reads a release file.
        path = os.path.join(module.tmpdir, 'release.json')
        with open(path, 'w') as f:
            json.dump({'products': module.params['products']}, f)
    args = ['apply', path] + (['--check'] if module.check_mode else [])
    # Under --check, exit 3 is webtree's "changes pending", an answer and not a failure.
    rc, doc = run_webtree(module, args, ok_exits=(0, 3) if module.check_mode else (0,))
    result = dict(changed=bool(doc.get('changed')), products=doc.get('products', []))
    if module._diff:
        result['diff'] = dict(before_header='product versions', after_header='product versions',
                              before=_version_text(doc, 'from'), after=_version_text(doc, 'to'))
    module.exit_json(**result)


if __name__ == '__main__':
    main()
