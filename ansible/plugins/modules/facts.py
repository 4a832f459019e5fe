#!/usr/bin/python
# -*- coding: utf-8 -*-
# BSD-3-Clause
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: facts
short_description: Gather a web host's webtree status as facts
description:
  - Runs C(webtree status --json) on the managed host and sets its answer as
    C(ansible_facts.webtree) (also C(webtree) as a variable), with every product with its current,
    previous and installed versions, the active database server, and whether Apache runs.
  - Reads only; it never changes the host, and it does not probe the apps (C(webtree apache status) does).
version_added: 0.1.0
extends_documentation_fragment:
  - sispi.webtree.common
attributes:
  check_mode:
    support: full
    description: The module only reads, in check mode as without it.
  diff_mode:
    support: none
'''

EXAMPLES = r'''
- name: What each web host runs
  sispi.webtree.facts:

- name: Show TV's current version
  ansible.builtin.debug:
    msg: "{{ ansible_facts.webtree.products | selectattr('name', 'equalto', 'TV') | map(attribute='current') | first }}"

- name: The active database server of every host
  ansible.builtin.debug:
    var: ansible_facts.webtree.server
'''

RETURN = r'''
ansible_facts:
  description: Facts to add to the host's facts.
  returned: always
  type: complex
  contains:
    webtree:
      description: C(webtree status --json), as webtree's docs/json.md describes it.
      returned: always
      type: complex
      contains:
        site:
          description: The site file webtree read.
          type: str
          sample: /usr/remote/software/www/webtree.yaml
        products:
          description: Every installable product, in the catalog's order.
          type: list
          elements: dict
          sample: [{"name": "TV", "current": "3.4", "previous": "3.3a", "versions": ["3.3a", "3.4"]}]
        server:
          description: The active database server's name, or null.
          type: str
          sample: server3
        apache:
          description: Whether a live httpd of this tree holds the pid file, and its pid.
          type: dict
          sample: {"running": true, "pid": 9786}
'''

from ansible_collections.sispi.webtree.plugins.module_utils.webtree import status, webtree_module


def main():
    module = webtree_module()
    module.exit_json(changed=False, ansible_facts=dict(webtree=status(module)))


if __name__ == '__main__':
    main()
