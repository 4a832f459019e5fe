#!/usr/bin/python
# -*- coding: utf-8 -*-
# BSD-3-Clause
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: apache
short_description: Start, stop, restart or reload a web host's Apache through webtree
description:
  - Runs C(webtree apache VERB --json) on the managed host, which runs Apache as the site's
    service account and, after every verb but stop, checks that each app answers (a failing app
    fails the task, Apache left running).
  - C(started) and C(stopped) are idempotent, like M(ansible.builtin.service) they change nothing
    when Apache is already so (read from C(webtree status --json)). C(restarted) and C(reloaded)
    always change; C(reloaded) is a graceful restart (C(apache graceful)) and, on a stopped
    Apache, a start.
  - webtree already restarts what a change needs (C(sispi.webtree.release), C(sispi.webtree.switch_web)), so
    plays do not need an Apache handler.
version_added: 0.1.0
extends_documentation_fragment:
  - sispi.webtree.common
options:
  state:
    description:
      - C(started), C(stopped), C(restarted) (stop and start) or C(reloaded) (graceful).
    type: str
    required: true
    choices: [started, stopped, restarted, reloaded]
attributes:
  check_mode:
    support: full
    description: Reads whether Apache runs and reports what the verb would change; runs no verb.
  diff_mode:
    support: none
'''

EXAMPLES = r'''
- name: Apache runs and every app answers
  sispi.webtree.apache:
    state: started

- name: Reload after a hand edit of conf.d (graceful)
  sispi.webtree.apache:
    state: reloaded
    config: /usr/remote/software/www/webtree.yaml
'''

RETURN = r'''
running:
  description: Apache runs after the task (in check mode, before it).
  returned: success
  type: bool
  sample: true
pid:
  description: Apache's pid, or null.
  returned: success
  type: int
  sample: 9786
verb:
  description: The C(webtree apache) verb run, or null when none was needed (or in check mode).
  returned: success
  type: str
  sample: graceful
apps:
  description: Each app's URL and answer after the verb, as C(webtree apache start --json) gives them.
  returned: when a verb other than stop ran
  type: list
  elements: dict
  sample: [{"url": "http://127.0.0.1:8080/TV", "ok": true, "status": 200}]
code:
  description: webtree's error code when the task failed (C(EHEALTH), C(EAPACHE), C(ELOCKED) ...).
  returned: failure
  type: str
  sample: EHEALTH
hint:
  description: What to do about the failure, in webtree's words.
  returned: failure
  type: str
'''

from ansible_collections.sispi.webtree.plugins.module_utils.webtree import run_webtree, status, webtree_module


def verb_for(state, running):
    """The webtree apache verb a state needs, or None when Apache is already so."""
    if state == 'started':
        return None if running else 'start'
    if state == 'stopped':
        return 'stop' if running else None
    if state == 'restarted':
        return 'restart'
    # graceful on a stopped Apache is refused by webtree; the service module starts it instead.
    return 'graceful' if running else 'start'


def main():
    module = webtree_module(dict(state=dict(type='str', required=True, choices=['started', 'stopped', 'restarted', 'reloaded'])))
    apache = status(module).get('apache') or {}
    running = bool(apache.get('running'))
    verb = verb_for(module.params['state'], running)
    if verb is None or module.check_mode:
        module.exit_json(changed=verb is not None, running=running, pid=apache.get('pid'), verb=None)
    doc = run_webtree(module, ['apache', verb])[1]
    module.exit_json(changed=True, running=bool(doc.get('running')), pid=doc.get('pid'), verb=verb, apps=doc.get('apps', []))


if __name__ == '__main__':
    main()
