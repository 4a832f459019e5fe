#!/usr/bin/python
# -*- coding: utf-8 -*-
# BSD-3-Clause
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: switch_web
short_description: Fail a web host's web tools over to another database server
description:
  - Runs C(webtree switch-web SERVER --json) on the managed host; it checks that every per-server
    variant of SERVER is in place and, unless I(check_db=false), that SERVER's database is a
    primary; then moves every web tool to it in one rename, restarts the apps and checks them.
    A failed check after the switch switches back and fails the task.
  - Switching to the server that is already active changes nothing (C(changed=false)).
  - The rest of the failover runbook (pg_hba.conf, WAL archiving, the standby) is returned in
    C(runbook); webtree does not do it.
version_added: 0.1.0
extends_documentation_fragment:
  - sispi.webtree.common
options:
  server:
    description:
      - The database server to move to, one of the site file's C(database.servers) names.
    type: str
    required: true
  check_db:
    description:
      - Check that I(server)'s database answers and is a primary (C(pg_is_in_recovery()) false)
        before switching. C(false) passes C(--no-check-db).
      - The password comes from C(PGPASSWORD) or C(~/.pgpass) of the remote user, never from here.
    type: bool
    default: true
  restart:
    description:
      - Restart the apps so they reconnect, and check them. C(false) passes C(--no-restart)
        (the apps keep their old connections until Apache restarts).
    type: bool
    default: true
attributes:
  check_mode:
    support: full
    description: Runs C(webtree switch-web --dry-run), which makes the same checks and changes nothing.
  diff_mode:
    support: full
    description: Shows the active server before and after.
'''

EXAMPLES = r'''
- name: Fail the web tools over to server2 once it is promoted
  sispi.webtree.switch_web:
    server: server2

- name: A test host without a database
  sispi.webtree.switch_web:
    server: server2
    check_db: false
'''

RETURN = r'''
server:
  description: The server switched to.
  returned: success
  type: str
  sample: server2
from:
  description: The server active before, or null.
  returned: success
  type: str
  sample: server3
checks:
  description: What was checked before switching, in words.
  returned: success
  type: list
  elements: str
  sample: ["server2 is a site server", "5 variants readable", "server2 is primary (pg_is_in_recovery() = false, PostgreSQL 15.8)"]
restart:
  description: The restart and health check's report, or why there was none; null when nothing changed or in check mode.
  returned: success
  type: str
runbook:
  description: What the operators' guide leaves to do by hand after a failover; empty when nothing changed.
  returned: success
  type: list
  elements: str
code:
  description: webtree's error code when the task failed (C(ESWITCH), C(EDB) ...).
  returned: failure
  type: str
  sample: EDB
hint:
  description: What to do about the failure, in webtree's words.
  returned: failure
  type: str
'''

from ansible_collections.sispi.webtree.plugins.module_utils.webtree import run_webtree, status, webtree_module


def main():
    module = webtree_module(dict(server=dict(type='str', required=True),
                                 check_db=dict(type='bool', default=True),
                                 restart=dict(type='bool', default=True)))
    server = module.params['server']
    args = ['switch-web', server]
    if not module.params['check_db']:
        args.append('--no-check-db')
    if not module.params['restart']:
        args.append('--no-restart')
    if module.check_mode:
        before = status(module).get('server')
        # The dry run makes every check a switch would and refuses as it would; its plan is empty
        # when SERVER is already active.
        plan = run_webtree(module, args + ['--dry-run'])[1]
        changed = len(plan.get('operations') or []) > 0
        result = dict(changed=changed, server=server, checks=[], restart=None, runbook=[], summary=plan.get('summary'))
        result['from'] = before
    else:
        doc = run_webtree(module, args)[1]
        before = doc.get('from')
        result = dict(changed=bool(doc.get('changed')), server=doc.get('server'), checks=doc.get('checks', []),
                      restart=doc.get('restart'), runbook=doc.get('runbook', []))
        result['from'] = before
        changed = result['changed']
    if module._diff:
        result['diff'] = dict(before='server: %s\n' % before, after='server: %s\n' % (server if changed else before))
    module.exit_json(**result)


if __name__ == '__main__':
    main()
