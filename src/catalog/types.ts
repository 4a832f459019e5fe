/**
 * A product descriptor (products/<name>.yaml), normalised. Paths in a descriptor are relative:
 * `dir` to its base (the products root or webpylib), pointer and link targets to `dir`.
 */
export interface WebLink {
  /** Path of the link under the document root, e.g. "TV" or "QE/DECam". */
  path: string;
  /** What it points at, relative to the product dir, e.g. "current/product". */
  target: string;
}

export interface ProductDescriptor {
  /** Catalog name used on the command line: TV, ConstantsDB, AV, QE, EXPO, ChartDirector, … */
  name: string;
  title: string;
  /** Installed from archives; false for ECL, which lives in the web tree. */
  installable: boolean;
  /** Archive file-name patterns with {v} for the version: "tv-{v}.tar.gz". */
  archives: string[];
  /** Archive names that carry no version and need --version: "EXPO.tar". */
  unversionedArchives: string[];
  base: 'products' | 'webpylib';
  /** Directory under base that holds the versions and the pointer ("tv"; "." for webpylib). */
  dir: string;
  /** Name of one version's directory, with {v}: "{v}" or "dbiapp_pylib_{v}". */
  versionDir: string;
  /**
   * The link whose target says which version is active: "current" -> "{v}" for most products,
   * "dbiapp_pylib" -> "dbiapp_pylib_{v}/lib" for the python libraries.
   */
  pointer: { name: string; target: string };
  /** Links under the document root, made once; they resolve through the pointer. */
  webLinks: WebLink[];
  /** "single-top": every entry lies under one top directory (stripped). "any": loose files allowed. */
  layout: 'single-top' | 'any';
  /** Install only this subdirectory of the unpacked archive ("lib" for ChartDirector). */
  content?: string;
  /** Files added to every installed version: name -> content. */
  addFiles: Record<string, string>;
  /** A licence file that install --license puts in place and an upgrade carries over. */
  license?: { file: string };
  /** Files or globs that must exist in an unpacked version ("*.wsgi"). */
  requires: string[];
  /** WSGI app: where Apache mounts it, and which of the web links holds its script. */
  wsgi?: { mount: string; link: string; script?: string; cfg?: string };
  /** The URL path `webtree check` asks (any 2xx answer): an app's mount, EXPO's index page. */
  probe?: string;
}
