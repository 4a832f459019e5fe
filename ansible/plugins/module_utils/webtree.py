# -*- coding: utf-8 -*-
# BSD-3-Clause
"""What every module of sispi.webtree shares: the common parameters and one way to call webtree.

webtree answers every command with exactly one JSON document on stdout under --json, a failure
too ({"error": {code, message, hint, details}, "exit": N}), so a module never parses text meant
for a person. The exit status is tested first, as docs/json.md asks.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

from ansible.module_utils.basic import AnsibleModule

COMMON_ARGS = dict(
    webtree=dict(type='str', default='webtree'),
    config=dict(type='path'),
)


def common_argument_spec(**extra):
    spec = dict(COMMON_ARGS)
    spec.update(extra)
    return spec


def webtree_module(options=None, **kwargs):
    """The AnsibleModule of a sispi.webtree module: the common parameters plus its own `options`.

    Every module supports check mode: webtree has a read-only form of each change (--check,
    --dry-run, status), so none needs to refuse it.
    """
    return AnsibleModule(argument_spec=common_argument_spec(**(options or {})), supports_check_mode=True, **kwargs)


def _command(module):
    name = module.params['webtree']
    if os.sep in name:
        if not os.access(name, os.X_OK):
            module.fail_json(msg='webtree is not an executable file: %s' % name,
                             hint='give the path of the webtree command (for example /usr/local/bin/webtree) in the webtree parameter')
        return name
    found = module.get_bin_path(name)
    if not found:
        module.fail_json(msg='%s is not on the PATH of %s' % (name, os.uname()[1]),
                         hint='install webtree on the host (the role sispi.webtree.host does), or give its path in the webtree parameter')
    return found


def _parse(out):
    try:
        doc = json.loads(out)
    except ValueError:
        return None
    return doc if isinstance(doc, dict) else None


def run_webtree(module, args, ok_exits=(0,)):
    """Run `webtree [--config FILE] ARGS --json`; return (exit status, document) or fail the task.

    A failure carries webtree's own message, hint, code and details, so that the play says what
    webtree said, and what to do about it.
    """
    cmd = [_command(module)]
    if module.params.get('config'):
        cmd += ['--config', module.params['config']]
    cmd += list(args) + ['--json']
    # NO_COLOR: stderr stays plain text in Ansible's report, whatever the host's terminal settings.
    rc, out, err = module.run_command(cmd, check_rc=False, environ_update={'NO_COLOR': '1'})
    doc = _parse(out)
    if rc in ok_exits and doc is not None and 'error' not in doc:
        return rc, doc
    if doc is not None and isinstance(doc.get('error'), dict):
        e = doc['error']
        module.fail_json(msg=e.get('message') or 'webtree failed', code=e.get('code'), hint=e.get('hint'),
                         details=e.get('details'), rc=rc, cmd=cmd, stderr=err)
    tail = '; '.join(line for line in err.strip().splitlines()[-5:] if line.strip())
    module.fail_json(msg='webtree %s exited %s without a JSON answer%s' % (' '.join(args), rc, (': ' + tail) if tail else ''),
                     code=None, hint='run the command on the host by hand to see why', rc=rc, cmd=cmd,
                     stdout=out, stderr=err)


def status(module):
    """`webtree status --json`: products, the active server, Apache's pid (read-only, no app probes)."""
    return run_webtree(module, ['status'])[1]
