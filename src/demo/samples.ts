/**
 * Sample product archives for the demo and the tests: the real layout of each product (TV's
 * app under product/, ChartDirector's lib/, the python libraries' lib/), with small but real
 * WSGI apps that report their product, version and the database server their cfg names.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { findProduct, loadCatalog } from '../catalog/load.js';
import { create } from 'tar';

const wsgiApp = (app: string, version: string, cfg: string) => `# Sample ${app} ${version}, made by webtree's demo.
import os

VERSION = ${JSON.stringify(version)}
APP = ${JSON.stringify(app)}
CFG = ${JSON.stringify(cfg)}


def _server():
    # The cfg file sits in the document root's cfg/, which is on the daemon's python-path.
    import sys
    for d in sys.path:
        p = os.path.join(d, 'cfg', CFG)
        if os.path.isfile(p):
            for line in open(p):
                if line.startswith('server'):
                    return line.split('=', 1)[1].strip()
    return 'unknown'


def application(environ, start_response):
    try:
        import dbiapp  # from webpylib/dbiapp_pylib: proves the python-path
        lib = 'dbiapp ' + getattr(dbiapp, 'VERSION', '?')
    except ImportError:
        lib = 'no dbiapp'
    body = ('%s %s server=%s %s\\n' % (APP, VERSION, _server(), lib)).encode('utf-8')
    start_response('200 OK', [('Content-Type', 'text/plain'), ('Content-Length', str(len(body)))])
    return [body]
`;

type Files = Record<string, string>;

/**
 * ECL is not installed from an archive: it lives in the web tree and reads its settings.py —
 * switched per server by switch-web — at every request, so its answer names the server it is on
 * (and a broken settings.py fails it).
 */
export const ECL_SAMPLE_APP = `import os
HERE = os.path.dirname(os.path.abspath(__file__))

def application(environ, start_response):
    ns = {}
    exec(open(os.path.join(HERE, 'settings.py')).read(), ns)
    body = ('ECL server=%s\\n' % ns.get('DATABASE_SERVER')).encode('utf-8')
    start_response('200 OK', [('Content-Type', 'text/plain'), ('Content-Length', str(len(body)))])
    return [body]
`;

function productFiles(product: string, version: string): { top: string; files: Files } {
  switch (product) {
    case 'TV':
      return {
        top: `tv-${version}`,
        files: {
          'product/tv.wsgi': wsgiApp('TV', version, 'des_tv.cfg'),
          'product/static/index.html': `<h1>TV ${version}</h1>\n`,
          README: 'Telemetry Viewer\n',
        },
      };
    case 'AV':
      return {
        top: `des_alarms-${version}`,
        files: { 'product/des_alarms.wsgi': wsgiApp('AV', version, 'des_alarms.cfg'), README: 'Alarm Viewer\n' },
      };
    case 'ConstantsDB':
      return {
        top: `ConstantsDB-${version}`,
        files: {
          'ConstantsDB.wsgi': wsgiApp('ConstantsDB', version, 'constants.cfg'),
          'templates/index.html': '<h1>Constants</h1>\n',
        },
      };
    case 'QE':
      return { top: `QEngine-${version}`, files: { 'QE.wsgi': wsgiApp('QE', version, 'QE_decam.cfg') } };
    case 'EXPO':
      return {
        top: `EXPO-${version}`,
        files: {
          'index.html': `<h1>Exposure Browser ${version}</h1>\n<form action="/QE/DECam"></form>\n`,
          'expo.css': 'body { font-family: sans-serif; }\n',
        },
      };
    case 'ChartDirector':
      return {
        top: `ChartDirector`,
        files: {
          'lib/pychartdir.py': `# stand-in for ChartDirector ${version}\ndef version():\n    return ${JSON.stringify(version)}\n`,
          'lib/fonts/README': 'fonts\n',
          'doc/index.html': 'docs\n',
        },
      };
    case 'dbiapp_pylib':
      return {
        top: `dbiapp_pylib_${version}`,
        files: {
          'lib/dbiapp/__init__.py': `VERSION = ${JSON.stringify(version)}\n`,
          'ups/dbiapp_pylib.table': 'setupRequired(python)\n',
        },
      };
    case 'wsgi_py':
      // webpylib/wsgi_py -> wsgi_py_<v>/lib, so lib/ itself is the package `import wsgi_py` finds.
      return {
        top: `wsgi_py_${version}`,
        files: {
          'lib/__init__.py': `VERSION = ${JSON.stringify(version)}\n`,
          'lib/request.py': 'def get(environ):\n    return environ\n',
        },
      };
    default:
      throw new Error(`no sample for ${product}`);
  }
}

/** The name an archive of `product` at `version` has: the first pattern its descriptor accepts. */
async function archiveName(product: string, version: string): Promise<string> {
  return findProduct(await loadCatalog(), product).archives[0].replace('{v}', version);
}

/** Write one sample archive of `product` at `version` into dir; returns its path. */
export async function writeSampleArchive(
  dir: string,
  product: string,
  version: string,
  extra: Files = {},
): Promise<string> {
  const { top, files } = productFiles(product, version);
  const src = await fs.mkdtemp(path.join(os.tmpdir(), 'webtree-sample-'));
  try {
    for (const [rel, content] of Object.entries({ ...files, ...extra })) {
      const p = path.join(src, top, rel);
      await fs.mkdir(path.dirname(p), { recursive: true });
      await fs.writeFile(p, content, { mode: 0o644 });
    }
    const file = path.join(dir, await archiveName(product, version));
    await create({ cwd: src, file, gzip: file.endsWith('.gz'), portable: true }, [top]);
    return file;
  } finally {
    await fs.rm(src, { recursive: true, force: true });
  }
}

/** The site's first versions: one archive per product, as the guide lists them. */
export const FIRST_VERSIONS: [string, string][] = [
  ['dbiapp_pylib', 'v1_4a'],
  ['wsgi_py', 'v1_5a'],
  ['ChartDirector', '5.0.2'],
  ['TV', '3.3a'],
  ['ConstantsDB', '1.5d'],
  ['AV', '1.1'],
  ['QE', '2.0'],
  ['EXPO', '1.0'],
];
