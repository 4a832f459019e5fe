# -*- coding: utf-8 -*-
# BSD-3-Clause
from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # What every sispi.webtree module has in common: its authors, and the parameters it takes
    # (which webtree, which site). A module's own `author` entries would be added to these;
    # version_added stays in each module (a scalar cannot be merged from a fragment).
    DOCUMENTATION = r'''
author:
  - SISPI database web tools team
options:
  webtree:
    description:
      - The webtree command on the managed host, a name looked up on its PATH or an absolute path
        (for example C(/opt/webtree/node_modules/.bin/webtree), where the role C(sispi.webtree.host)
        installs it by default).
    type: str
    default: webtree
  config:
    description:
      - The site file (C(webtree.yaml)) on the managed host, passed as C(--config).
      - When not given, webtree's own default applies, C($WEBTREE_CONFIG) and then
        C(/usr/remote/software/www/webtree.yaml).
    type: path
notes:
  - The module runs C(webtree ... --json) on the managed host and reads only its JSON answer;
    a failure is reported with webtree's C(msg), C(hint), C(code) and C(details).
requirements:
  - webtree (Node.js 20 or later) on the managed host
'''
